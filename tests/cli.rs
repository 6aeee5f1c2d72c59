//! The command line, driven as a user would: the real binary, on its own database.

mod support;
use session_kit::testing::*;
use std::process::{Command, Stdio};
use support::*;

#[rocket::async_test]
async fn create_user_reads_the_password_from_stdin_and_checks_it() {
    let cli = Cli::new().await;
    let out = cli.run(&["create-user", "alice"], "a long password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created user alice"));

    let taken = cli.run(&["create-user", "ALICE"], "a long password\n");
    assert_eq!(taken.status.code(), Some(1));
    assert!(stderr(&taken).contains("taken"), "{}", stderr(&taken));

    let short = cli.run(&["create-user", "bob"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 8"), "{}", stderr(&short));

    let bad_name = cli.run(&["create-user", "b<b>"], "a long password\n");
    assert_eq!(bad_name.status.code(), Some(1));

    let empty = cli.run(&["create-user", "carol"], "");
    assert_eq!(empty.status.code(), Some(1));
}

#[rocket::async_test]
async fn list_revoke_and_prune_sessions() {
    let cli = Cli::new().await;
    cli.create_alice();
    // Sessions made through the app on the same database.
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let keep = app.login("alice", "a long password").await;
    let gone = app.login("alice", "a long password").await;
    let gone_id = app.other_session_id(&keep).await;

    let list = cli.run(&["list-sessions", "Alice"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    let table = stdout(&list);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(&gone_id), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    let revoke = cli.run(&["revoke", &gone_id], "");
    assert!(
        revoke.status.success(),
        "{:?}: {}{}",
        revoke.status,
        stdout(&revoke),
        stderr(&revoke)
    );
    assert_eq!(app.session_count().await, 1);
    // Kept in the history as ended by an administrator.
    let ended = app
        .get("/api/sessions?state=ended", Some(&keep))
        .await
        .json();
    assert_eq!(ended[0]["id"], gone_id.as_str(), "{ended}");
    assert_eq!(ended[0]["end_reason"], "admin", "{ended}");
    let again = cli.run(&["revoke", &gone_id], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no session"));
    drop(gone);

    let prune = cli.run(&["prune"], "");
    assert!(prune.status.success());
    assert!(stdout(&prune).contains("pruned 0 expired sessions"));

    let unknown = cli.run(&["list-sessions", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no user named 'nobody'"));
}

#[rocket::async_test]
async fn prune_deletes_expired_sessions() {
    let cli = Cli::new().await;
    cli.create_alice();
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    app.login("alice", "a long password").await;
    app.login("alice", "a long password").await;
    // Expire them in the database itself, a minute ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(now - 60)
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let prune = cli.run(&["prune"], "");
    assert!(prune.status.success());
    assert!(
        stdout(&prune).contains("pruned 2 expired sessions"),
        "{}",
        stdout(&prune)
    );
    assert_eq!(app.session_count().await, 0);
    // They are kept as expired; prune deletes history past history_retention.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM session_history WHERE end_reason = 'expired'")
            .await,
        2
    );
    sqlx::query("UPDATE session_history SET ended_at = 1")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    assert!(cli.run(&["prune"], "").status.success());
    assert_eq!(app.count("SELECT COUNT(*) FROM session_history").await, 0);
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    for args in [
        vec!["frobnicate"],
        vec!["create-user"],
        vec!["revoke", "a", "b"],
        vec!["prune", "extra"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("Usage:"), "{args:?}");
    }
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["create-user", "--help"],
        vec!["list-sessions", "-h"],
        vec!["revoke", "--help"],
        vec!["prune", "--help"],
        vec!["serve", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage: multitoken"), "{args:?}");
    }
}

#[test]
fn help_into_a_closed_pipe_ends_quietly() {
    // `multitoken --help | head -n 0`: the reader is gone before the first line is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(BIN)
        .arg("--help")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert_eq!(stderr(&out), "", "nothing on stderr, no panic");
}

#[rocket::async_test]
async fn everything_after_a_double_dash_is_an_operand() {
    let cli = Cli::new().await;
    // "--help" is a valid username: after `--`, it is one.
    let created = cli.run(&["create-user", "--", "--help"], "a long password\n");
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created user --help"));
    let list = cli.run(&["list-sessions", "--", "--help"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list).trim(), "--help has no live sessions");
    let unknown = cli.run(&["list-sessions", "--", "-h"], "");
    assert_eq!(unknown.status.code(), Some(1), "{}", stdout(&unknown));
    assert!(stderr(&unknown).contains("no user named '-h'"));
}

#[test]
fn an_unknown_option_is_named_as_such() {
    for args in [
        vec!["list-sessions", "-rf"],
        vec!["list-sessions", "alice", "-rf"],
        vec!["create-user", "-rf"],
        vec!["prune", "-rf"],
        vec!["-rf"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("unknown option '-rf'"), "{args:?}: {err}");
        assert!(!err.contains("exactly one"), "{args:?}: {err}");
        assert!(err.contains("Usage: multitoken"), "{args:?}: {err}");
    }
}

#[test]
fn help_says_a_revoke_is_honoured_within_a_second() {
    let out = Command::new(BIN).args(["help", "revoke"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("within a second"), "{text}");
    assert!(!text.contains("30 s"), "{text}");
}

#[rocket::async_test]
async fn revoke_takes_a_session_id_that_begins_with_a_dash() {
    let cli = Cli::new().await;
    let id = format!("-{}", "A".repeat(21));
    for args in [vec!["revoke", &id], vec!["revoke", "--", &id]] {
        let out = cli.run(&args, "");
        // Parsed as an id (and not found), not refused as an unknown option.
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no session with id"),
            "{}",
            stderr(&out)
        );
    }
    let out = cli.run(&["revoke", "-x"], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Logs in through `app` until it has `n` sessions whose public ids begin with `-` (about one in
/// 64 does); returns their ids.
async fn ids_that_begin_with_a_dash(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..5000 {
        let reply = app.try_login("alice", "a long password").await;
        assert_eq!(reply.status.code, 200, "{}", reply.text);
        let id = reply.json()["session"]["id"].as_str().unwrap().to_string();
        if id.starts_with('-') {
            ids.push(id);
            if ids.len() == n {
                return ids;
            }
        }
    }
    panic!("no id that begins with '-' in 5000 logins");
}

#[rocket::async_test]
async fn revoke_takes_real_ids_that_begin_with_a_dash_with_and_without_a_double_dash() {
    let cli = Cli::new().await;
    cli.create_alice();
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let ids = ids_that_begin_with_a_dash(&app, 2).await;
    for (args, id) in [(vec!["revoke"], &ids[0]), (vec!["revoke", "--"], &ids[1])] {
        let args: Vec<&str> = args.into_iter().chain([id.as_str()]).collect();
        let out = cli.run(&args, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let sql = format!("SELECT COUNT(*) FROM sessions WHERE id = '{id}'");
        assert_eq!(app.count(&sql).await, 0, "{id} still exists");
    }
}
