//! The command line: `serve` (the default) and the admin commands, on the same config
//! (Rocket.toml and `ROCKET_*` variables) and database as the server.

use crate::auth::{Auth, SignUpError};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::db::DbPool;
use crate::events::EventBus;
use crate::mail::{MailConfig, Mailer};
use crate::migrations::AppMigrations;
use crate::store::users::User;
use rocket::figment::value::magic::RelativePathBuf;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

/// `println!` that ends quietly when stdout is closed (`app --help | head -n 1`), where
/// `println!` would panic on the broken pipe. What the command did is done by then.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The usage, `{app}` standing for the app's name (the binary's).
const USAGE: &str = "\
Usage: {app} [COMMAND]

Commands:
  serve                    Start the web server (the default)
  create-user <username>   Create a user; the password is asked for, or read from stdin
  list-sessions <username> List a user's live sessions
  revoke <session-id>      End one session at once
  disable-2fa <username>   Turn a user's two-factor authentication off (for support)
  prune                    End expired sessions; delete old history, activity and failed logins
  help [COMMAND]           Show this help, or a command's

Configuration comes from Rocket.toml and ROCKET_* environment variables, as for the server.";

/// `text` with the app's name in place of `{app}`.
fn named(text: &str) -> String {
    text.replace("{app}", crate::site::get().name)
}

/// A command's own help, `{app}` standing for the app's name.
fn help(command: &str) -> Option<&'static str> {
    Some(match command {
        "serve" => "Usage: {app} serve\n\nStart the web server (what `{app}` with no command does).",
        "create-user" => "Usage: {app} create-user <username>\n\nCreate a user, whether or not signup is open. The password is asked for twice\nwithout echo on a terminal, or read from the first line of stdin when piped:\n  echo 'a long password' | {app} create-user alice",
        "list-sessions" => "Usage: {app} list-sessions <username>\n\nList the user's live sessions, most recently used first.",
        "revoke" => "Usage: {app} revoke <session-id>\n\nEnd one session (by the public id that list-sessions shows). Every running server\non the same database refuses it within a second: on PostgreSQL at once, on SQLite\nat its next look at the revocation log (ten times a second).",
        "disable-2fa" => "Usage: {app} disable-2fa <username>\n\nTurn the user's two-factor authentication off (the authenticator and recovery codes\nare forgotten), for a user who lost both. Recorded in the user's activity as done by\nan administrator; the user is told by mail when the address is verified.",
        "prune" => "Usage: {app} prune\n\nEnd expired and idle sessions (kept in the history as such), delete history, activity and failed-login records past their retention, and print how many sessions ended.",
        _ => return None,
    })
}

/// What `main` should do.
pub enum Command {
    Serve,
    Exit(ExitCode),
    Admin(Admin),
}

pub enum Admin {
    CreateUser(String),
    ListSessions(String),
    Revoke(String),
    DisableTwoFactor(String),
    Prune,
}

/// Parses the arguments (without the program name); prints help and usage errors itself.
///
/// Options (`-h`, `--help`) may stand anywhere before `--`; everything after `--` is an operand,
/// so `list-sessions -- --help` lists the user named `--help`. Any other word that begins with
/// `-` before `--` is an unknown option, except a session id for `revoke` (base64url, so it may
/// begin with `-`).
pub fn parse(args: &[String]) -> Command {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (command, rest) = match args.split_first() {
        None => return Command::Serve,
        Some((command, rest)) => (*command, rest),
    };
    if matches!(command, "-h" | "--help" | "help") {
        let text = rest.first().and_then(|c| help(c)).unwrap_or(USAGE);
        say!("{}", named(text));
        return Command::Exit(ExitCode::SUCCESS);
    }
    let Some(usage) = help(command) else {
        let what = if command.starts_with('-') {
            "option"
        } else {
            "command"
        };
        return usage_error(format!("unknown {what} '{command}'"), USAGE);
    };
    let operands = match Operands::split(command, rest) {
        Ok(Operands::Help) => {
            say!("{}", named(usage));
            return Command::Exit(ExitCode::SUCCESS);
        }
        Ok(Operands::These(operands)) => operands,
        Err(msg) => return usage_error(msg, usage),
    };
    let one = |what: &str| match operands.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!("{command} needs a {what}")),
        _ => Err(format!("{command} takes exactly one {what}")),
    };
    let none = || match operands.as_slice() {
        [] => Ok(()),
        _ => Err(format!("{command} takes no arguments")),
    };
    let parsed = match command {
        "serve" => none().map(|_| Command::Serve),
        "create-user" => one("username").map(|u| Command::Admin(Admin::CreateUser(u))),
        "list-sessions" => one("username").map(|u| Command::Admin(Admin::ListSessions(u))),
        "revoke" => one("session id").map(|id| Command::Admin(Admin::Revoke(id))),
        "disable-2fa" => one("username").map(|u| Command::Admin(Admin::DisableTwoFactor(u))),
        "prune" => none().map(|_| Command::Admin(Admin::Prune)),
        other => Err(format!("unknown command '{other}'")),
    };
    parsed.unwrap_or_else(|msg| usage_error(msg, usage))
}

/// Prints `msg` and the usage; exit code 2, as for any misuse.
fn usage_error(msg: String, usage: &str) -> Command {
    eprintln!("error: {msg}\n\n{}", named(usage));
    Command::Exit(ExitCode::from(2))
}

/// A command's arguments once the options are taken out.
enum Operands<'a> {
    /// `-h` or `--help` before any `--`.
    Help,
    These(Vec<&'a str>),
}

impl<'a> Operands<'a> {
    fn split(command: &str, rest: &[&'a str]) -> Result<Operands<'a>, String> {
        let mut operands = Vec::new();
        let mut words = rest.iter();
        for &word in words.by_ref() {
            match word {
                "--" => break,
                "-h" | "--help" => return Ok(Operands::Help),
                // A lone "-" is an operand, as it is for most tools.
                _ if word.len() > 1 && word.starts_with('-') => {
                    if command == "revoke" && crate::token::is_public_id(word) {
                        operands.push(word);
                    } else {
                        return Err(format!(
                            "unknown option '{word}' (an argument that begins with '-' goes \
                             after '--')"
                        ));
                    }
                }
                _ => operands.push(word),
            }
        }
        operands.extend(words);
        Ok(Operands::These(operands))
    }
}

/// Runs an admin command; the message of an `Err` is printed by `main` as `error: ...`.
/// The database is migrated first, the kit's tables and then the app's `migrations`.
pub async fn run(
    admin: Admin,
    figment: rocket::figment::Figment,
    migrations: &AppMigrations,
) -> Result<(), String> {
    let config = AuthConfig::from_figment(&figment)?;
    let url: String = figment
        .extract_inner("databases.db.url")
        .map_err(|e| format!("databases.db.url: {e}"))?;
    let db = DbPool::connect(&url, 2).await.map_err(|e| e.to_string())?;
    db.migrate(migrations).await.map_err(|e| e.to_string())?;
    let auth = Auth::new(config, db, EventBus::default(), Clock::system(), None).await?;
    // Notices (disable-2fa's) go to the outbox, for the server's mail sender to send.
    let template_dir = figment
        .extract_inner::<RelativePathBuf>("template_dir")
        .map_or_else(|_| "templates".into(), |dir| dir.relative());
    let mailer = MailConfig::from_figment(&figment)
        .and_then(|mail| Mailer::new(mail, &template_dir, auth.db().clone(), Clock::system()));
    match mailer {
        Ok(mailer) => auth.use_mailer(mailer),
        Err(e) => eprintln!("warning: no notice mail will be queued: {e}"),
    }
    let result = match admin {
        Admin::CreateUser(name) => create_user(&auth, &name).await,
        Admin::ListSessions(name) => list_sessions(&auth, &name).await,
        Admin::Revoke(id) => revoke(&auth, &id).await,
        Admin::DisableTwoFactor(name) => disable_two_factor(&auth, &name).await,
        Admin::Prune => prune(&auth).await,
    };
    auth.db().close().await;
    result
}

fn db_error(e: sqlx::Error) -> String {
    format!("database error: {e}")
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Password (again): ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    // Only the line ending goes; a password may begin or end with spaces.
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("no password given on stdin".into());
    }
    Ok(password.to_string())
}

async fn create_user(auth: &Auth, name: &str) -> Result<(), String> {
    if let Some(msg) = User::check_username(name.trim()) {
        return Err(msg.to_string());
    }
    let password = read_password()?;
    match auth.sign_up(name, password).await {
        Ok(user) => {
            say!("created user {} (id {})", user.username, user.id);
            Ok(())
        }
        Err(SignUpError::Taken) => Err(format!("the username '{}' is taken", name.trim())),
        Err(SignUpError::Invalid(msg) | SignUpError::InvalidEmail(msg)) => Err(msg.to_string()),
        // No address is given here, so none can be taken.
        Err(SignUpError::EmailTaken) => Err("the email address is taken".into()),
        Err(SignUpError::Busy) => Err("the password hashing threads did not answer".into()),
        Err(SignUpError::Throttled(secs)) => Err(format!("too many sign-ups; retry in {secs} s")),
        Err(SignUpError::Db(e)) => Err(db_error(e)),
    }
}

async fn find_user(auth: &Auth, name: &str) -> Result<User, String> {
    let mut conn = auth.db().acquire().await.map_err(db_error)?;
    User::find_by_username(&mut conn, name)
        .await
        .map_err(db_error)?
        .ok_or_else(|| format!("no user named '{}'", name.trim()))
}

async fn list_sessions(auth: &Auth, name: &str) -> Result<(), String> {
    let user = find_user(auth, name).await?;
    let sessions = auth
        .sessions_of_user(user.id, None)
        .await
        .map_err(db_error)?;
    if sessions.is_empty() {
        say!("{} has no live sessions", user.username);
        return Ok(());
    }
    let rows: Vec<[String; 7]> = sessions
        .into_iter()
        .map(|s| {
            [
                s.id,
                s.kind.as_str().to_string(),
                s.device,
                s.name.unwrap_or_default(),
                s.ip.unwrap_or_default(),
                rfc3339(s.last_used_at),
                rfc3339(s.created_at),
            ]
        })
        .collect();
    let header = ["ID", "KIND", "DEVICE", "NAME", "IP", "LAST USED", "CREATED"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        say!("{}", cells.join("  ").trim_end());
    }
    Ok(())
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn revoke(auth: &Auth, id: &str) -> Result<(), String> {
    let found = crate::token::is_public_id(id) && auth.revoke_by_id(id).await.map_err(db_error)?;
    match found {
        true => {
            say!("revoked session {id}");
            Ok(())
        }
        false => Err(format!("no session with id '{id}'")),
    }
}

async fn disable_two_factor(auth: &Auth, name: &str) -> Result<(), String> {
    let user = find_user(auth, name).await?;
    match auth.turn_off(user.id, None).await.map_err(db_error)? {
        true => println!("turned two-factor authentication off for {}", user.username),
        false => println!("{} has no two-factor authentication on", user.username),
    }
    Ok(())
}

async fn prune(auth: &Auth) -> Result<(), String> {
    let pruned = auth.sweep().await.map_err(db_error)?;
    say!("pruned {pruned} expired sessions");
    Ok(())
}
