//! The command line: `serve` (the default) and the admin commands, on the same config
//! (Rocket.toml and `ROCKET_*` variables) and database as the server.

use crate::auth::{Auth, SignUpError};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::db::DbPool;
use crate::events::EventBus;
use crate::store::users::User;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: multitoken [COMMAND]

Commands:
  serve                    Start the web server (the default)
  create-user <username>   Create a user; the password is asked for, or read from stdin
  list-sessions <username> List a user's live sessions
  revoke <session-id>      End one session at once
  prune                    End expired sessions; delete old history, activity and failed logins
  help [COMMAND]           Show this help, or a command's

Configuration comes from Rocket.toml and ROCKET_* environment variables, as for the server.";

fn help(command: &str) -> Option<&'static str> {
    Some(match command {
        "serve" => "Usage: multitoken serve\n\nStart the web server (what `multitoken` with no command does).",
        "create-user" => "Usage: multitoken create-user <username>\n\nCreate a user, whether or not signup is open. The password is asked for twice\nwithout echo on a terminal, or read from the first line of stdin when piped:\n  echo 'a long password' | multitoken create-user alice",
        "list-sessions" => "Usage: multitoken list-sessions <username>\n\nList the user's live sessions, most recently used first.",
        "revoke" => "Usage: multitoken revoke <session-id>\n\nEnd one session (by the public id that list-sessions shows). On PostgreSQL every\nrunning instance refuses it at once; a server on the same SQLite file stops\naccepting it within 30 s (its cache entry's lifetime).",
        "prune" => "Usage: multitoken prune\n\nEnd expired and idle sessions (kept in the history as such), delete history, activity and failed-login records past their retention, and print how many sessions ended.",
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
    Prune,
}

/// Parses the arguments (without the program name); prints help and usage errors itself.
pub fn parse(args: &[String]) -> Command {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let wants_help = |rest: &[&str]| rest.iter().any(|a| matches!(*a, "-h" | "--help"));
    let usage_error = |msg: String| {
        eprintln!("error: {msg}\n\n{USAGE}");
        Command::Exit(ExitCode::from(2))
    };
    let (command, rest) = match args.split_first() {
        None => return Command::Serve,
        Some((command, rest)) => (*command, rest),
    };
    match command {
        "-h" | "--help" | "help" => {
            match rest.first().and_then(|c| help(c)) {
                Some(text) => println!("{text}"),
                None => println!("{USAGE}"),
            }
            return Command::Exit(ExitCode::SUCCESS);
        }
        c if help(c).is_some() && wants_help(rest) => {
            println!("{}", help(c).unwrap_or(USAGE));
            return Command::Exit(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let one_arg = |what: &str| match rest {
        // After `--`, and for a session id (base64url, so it may begin with '-'), as it is.
        ["--", arg] => Ok(arg.to_string()),
        [arg] if !arg.starts_with('-') || crate::token::is_public_id(arg) => Ok(arg.to_string()),
        [] => Err(format!("{command} needs a {what}")),
        _ => Err(format!("{command} takes exactly one {what}")),
    };
    let no_args = || match rest {
        [] => Ok(()),
        _ => Err(format!("{command} takes no arguments")),
    };
    let parsed = match command {
        "serve" => no_args().map(|_| Command::Serve),
        "create-user" => one_arg("username").map(|u| Command::Admin(Admin::CreateUser(u))),
        "list-sessions" => one_arg("username").map(|u| Command::Admin(Admin::ListSessions(u))),
        "revoke" => one_arg("session id").map(|id| Command::Admin(Admin::Revoke(id))),
        "prune" => no_args().map(|_| Command::Admin(Admin::Prune)),
        other => Err(format!("unknown command '{other}'")),
    };
    parsed.unwrap_or_else(usage_error)
}

/// Runs an admin command; the message of an `Err` is printed by `main` as `error: ...`.
pub async fn run(admin: Admin) -> Result<(), String> {
    let figment = crate::figment();
    let config = AuthConfig::from_figment(&figment)?;
    let url: String = figment
        .extract_inner("databases.db.url")
        .map_err(|e| format!("databases.db.url: {e}"))?;
    let db = DbPool::connect(&url, 2).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let auth = Auth::new(config, db, EventBus::default(), Clock::system()).await?;
    let result = match admin {
        Admin::CreateUser(name) => create_user(&auth, &name).await,
        Admin::ListSessions(name) => list_sessions(&auth, &name).await,
        Admin::Revoke(id) => revoke(&auth, &id).await,
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
            println!("created user {} (id {})", user.username, user.id);
            Ok(())
        }
        Err(SignUpError::Taken) => Err(format!("the username '{}' is taken", name.trim())),
        Err(SignUpError::Invalid(msg)) => Err(msg.to_string()),
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
        println!("{} has no live sessions", user.username);
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
        println!("{}", cells.join("  ").trim_end());
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
            println!("revoked session {id}");
            Ok(())
        }
        false => Err(format!("no session with id '{id}'")),
    }
}

async fn prune(auth: &Auth) -> Result<(), String> {
    let pruned = auth.sweep().await.map_err(db_error)?;
    println!("pruned {pruned} expired sessions");
    Ok(())
}
