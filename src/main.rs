//! Serves the app, or runs an admin command (`multitoken --help` lists them).

#[rocket::main]
async fn main() -> std::process::ExitCode {
    multitoken::kit().main().await
}
