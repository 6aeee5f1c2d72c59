//! The hourly count of mails that carry a link, per address and per client: `reserve` keeps a
//! key under its limit, and the sweep deletes what no longer counts.

mod common;
use common::*;
use session_kit::store::mail_sends::{self, email_key};

#[rocket::async_test]
async fn reserve_counts_each_key_and_refuses_past_the_strictest_limit() {
    let app = TestApp::new(build).await;
    let mut conn = app.auth().db().acquire().await.unwrap();
    let now = app.clock().now();
    let address = email_key("bob@example.org");
    let ip = "ip:10.1.2.3";
    for i in 0..2 {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let limits = [(address.as_str(), 2), (ip, 3)];
        assert_eq!(
            mail_sends::reserve(&mut tx, &limits, now + i)
                .await
                .unwrap(),
            None
        );
        tx.commit().await.unwrap();
    }
    let limits = [(address.as_str(), 2), (ip, 3)];
    let wait = mail_sends::reserve(&mut conn, &limits, now + 100)
        .await
        .unwrap();
    assert_eq!(
        wait,
        Some(3600 - 100),
        "until the first mail leaves the hour"
    );
    assert_eq!(
        mail_sends::count(&mut conn, &address, now + 100)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        mail_sends::count(&mut conn, ip, now + 100).await.unwrap(),
        2
    );
    // Another address from the same client: the client's limit is next.
    let other = email_key("carol@example.org");
    let limits = [(other.as_str(), 2), (ip, 3)];
    assert_eq!(
        mail_sends::reserve(&mut conn, &limits, now + 100)
            .await
            .unwrap(),
        None
    );
    assert!(mail_sends::reserve(&mut conn, &limits, now + 100)
        .await
        .unwrap()
        .is_some());
    mail_sends::record(&mut conn, ip, now + 200).await.unwrap();
    assert_eq!(
        mail_sends::count(&mut conn, ip, now + 200).await.unwrap(),
        4
    );
    app.advance(3600 + 200);
    app.auth().sweep().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_sends").await, 0);
}

#[rocket::async_test]
async fn parallel_reservations_wait_for_each_other_and_never_pass_the_limit() {
    let app = TestApp::new(build).await;
    let now = app.clock().now();
    let key = email_key("bob@example.org");
    let tries = (0..10).map(|_| {
        let db = app.auth().db().clone();
        let key = key.clone();
        rocket::tokio::spawn(async move {
            let mut tx = db.begin().await?;
            let wait = mail_sends::reserve(&mut tx, &[(key.as_str(), 5)], now).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(wait)
        })
    });
    let mut granted = 0;
    for attempt in tries.collect::<Vec<_>>() {
        // On SQLite a reservation that read before it wrote failed with "database is locked".
        let wait = attempt.await.unwrap().expect("no reservation fails");
        granted += usize::from(wait.is_none());
    }
    assert_eq!(granted, 5);
    let mut conn = app.auth().db().acquire().await.unwrap();
    assert_eq!(mail_sends::count(&mut conn, &key, now).await.unwrap(), 5);
}
