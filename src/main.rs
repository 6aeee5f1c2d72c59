use multitoken::cli::{self, Command};
use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Command::Exit(code) => code,
        Command::Serve => match multitoken::app().launch().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                // Logs the cause (and marks the error handled, so it does not panic on drop).
                e.pretty_print();
                ExitCode::FAILURE
            }
        },
        Command::Admin(admin) => match cli::run(admin).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("error: {msg}");
                ExitCode::FAILURE
            }
        },
    }
}
