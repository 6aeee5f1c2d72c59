//! Two password changes at once, from two sessions of one user, both with the right current
//! password: exactly one wins. The other is refused (401 from the API, the form's error on the
//! page) and changes nothing: the password is the winner's, and the winner's session is the
//! only one left.

mod common;
use common::*;
use rocket::http::{ContentType, Cookie, Header, Status};
use serde_json::json;

const TRIALS: usize = 8;

/// The user's password is `password` and no other of the two candidates.
async fn assert_password(app: &TestApp, username: &str, password: &str, not: &str) {
    app.login(username, password).await;
    app.try_login(username, not)
        .await
        .assert_problem(401, "invalid_credentials");
}

async fn count_for(app: &TestApp, sql: &str, user: &str) -> i64 {
    app.count(&sql.replace(
        "$user",
        &format!("(SELECT id FROM users WHERE username = '{user}')"),
    ))
    .await
}

/// What a lost change must leave: the winner's session alone, one change on record, no sudo
/// grant and no failure recorded for the loser.
async fn assert_one_change(app: &TestApp, user: &str, winner: &str, loser: &str) {
    assert_eq!(app.get("/api/me", Some(winner)).await.status, Status::Ok);
    app.get("/api/me", Some(loser))
        .await
        .assert_problem(401, "invalid_token");
    let changes =
        "SELECT COUNT(*) FROM activity WHERE user_id = $user AND type = 'password_changed'";
    assert_eq!(count_for(app, changes, user).await, 1);
    let grants = "SELECT COUNT(*) FROM activity WHERE user_id = $user AND type = 'sudo_granted'";
    assert_eq!(count_for(app, grants, user).await, 1, "only the winner's");
    let failures =
        "SELECT COUNT(*) FROM activity WHERE user_id = $user AND type = 'sign_in_failed'";
    assert_eq!(count_for(app, failures, user).await, 0);
}

#[rocket::async_test]
async fn two_api_changes_at_once_one_wins_and_the_other_changes_nothing() {
    let app = TestApp::new(build).await;
    for trial in 0..TRIALS {
        let user = format!("racer{trial}");
        let first = app.user_token(&user).await;
        let second = app.login(&user, PASSWORD).await;
        let change = |new: &str| json!({"current_password": PASSWORD, "new_password": new});
        let (a, b) = rocket::tokio::join!(
            app.post(
                "/api/auth/password",
                Some(&first),
                change("password of first")
            ),
            app.post(
                "/api/auth/password",
                Some(&second),
                change("password of second")
            ),
        );
        let (winner, loser, won, lost, refused) = match (a.status.code, b.status.code) {
            (204, 401) => (
                &first,
                &second,
                "password of first",
                "password of second",
                &b,
            ),
            (401, 204) => (
                &second,
                &first,
                "password of second",
                "password of first",
                &a,
            ),
            other => panic!("trial {trial}: {other:?}, {} / {}", a.text, b.text),
        };
        // Refused at the check (the hash it verified is gone) or, when the winner committed
        // first, at the door (its session was ended by the change): a 401 either way.
        let code = refused.json()["code"].clone();
        assert!(
            code == "invalid_credentials" || code == "invalid_token",
            "trial {trial}: {}",
            refused.text
        );
        refused.assert_problem(401, code.as_str().unwrap_or_default());
        assert_one_change(&app, &user, winner, loser).await;
        assert_password(&app, &user, won, lost).await;
    }
}

/// The password form of a browser whose session cookie is `token`: its CSRF token.
async fn form_csrf(app: &TestApp, token: &str) -> String {
    let page = app
        .client
        .get("/password")
        .cookie(Cookie::new(SESSION_COOKIE, token.to_string()))
        .header(Header::new("Accept", "text/html"))
        .dispatch()
        .await;
    let page = read(page).await;
    assert_eq!(page.status, Status::Ok, "{}", page.text);
    web::csrf_of(&page.text)
}

/// Submits the password form as the browser whose session cookie is `token`.
async fn submit_change(app: &TestApp, token: &str, csrf: &str, new: &str) -> Reply {
    let body = web::form_body(&[
        ("csrf", csrf),
        ("current", PASSWORD),
        ("password", new),
        ("confirm", new),
    ]);
    let req = app
        .client
        .post("/password")
        .cookie(Cookie::new(SESSION_COOKIE, token.to_string()))
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .body(body);
    read(req.dispatch().await).await
}

#[rocket::async_test]
async fn two_form_changes_at_once_one_wins_and_the_other_shows_the_form_again() {
    let app = TestApp::new(build).await;
    for trial in 0..TRIALS {
        let user = format!("browser{trial}");
        let first = app.user_token(&user).await;
        let second = app.login(&user, PASSWORD).await;
        let (csrf_first, csrf_second) = (
            form_csrf(&app, &first).await,
            form_csrf(&app, &second).await,
        );
        let (a, b) = rocket::tokio::join!(
            submit_change(&app, &first, &csrf_first, "password of first"),
            submit_change(&app, &second, &csrf_second, "password of second"),
        );
        let (winner, loser, won, lost, refused) = match (changed(&a), changed(&b)) {
            (true, false) => (
                &first,
                &second,
                "password of first",
                "password of second",
                &b,
            ),
            (false, true) => (
                &second,
                &first,
                "password of second",
                "password of first",
                &a,
            ),
            other => panic!("trial {trial}: {other:?}, {} / {}", a.text, b.text),
        };
        // Refused at the check (the form again, with its error) or, when the winner committed
        // first, at the door (its session was ended by the change: back to sign in).
        let to_sign_in = refused.status.code == 303
            && refused
                .header("Location")
                .is_some_and(|l| l.starts_with("/login"));
        assert!(
            to_sign_in
                || (refused.status.code == 422
                    && refused.text.contains("Incorrect current password.")),
            "trial {trial}: {} {:?} {}",
            refused.status,
            refused.header("Location"),
            refused.text
        );
        assert_one_change(&app, &user, winner, loser).await;
        assert_password(&app, &user, won, lost).await;
    }
}

/// Whether a password form's answer is the change made: back to the device page.
fn changed(reply: &Reply) -> bool {
    reply.status.code == 303 && reply.header("Location").is_some_and(|l| l == "/sessions")
}
