//! The auth stage: builds [`Auth`] at ignition (failing it on bad config), runs the touch flusher
//! and the expiry sweep from liftoff, and flushes pending writes at shutdown.

use super::{listener, poller, Auth};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::db::{Backend, Db};
use crate::events::EventBus;
use crate::mail::Mailer;
use crate::two_factor::SealingKey;
use rocket::fairing::{self, AdHoc, Fairing, Info, Kind};
use rocket::{Build, Orbit, Rocket};
use rocket_db_pools::Database;
use std::time::Duration;

struct AuthFairing;

#[rocket::async_trait]
impl Fairing for AuthFairing {
    fn info(&self) -> Info {
        Info {
            name: "Auth",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Shutdown,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match AuthConfig::from_figment(rocket.figment()) {
            Ok(config) => config,
            Err(e) => {
                rocket::error!("{e}");
                return Err(rocket);
            }
        };
        let Some(db) = Db::fetch(&rocket).map(|db| (**db).clone()) else {
            rocket::error!("the auth stage needs db::stage() attached first");
            return Err(rocket);
        };
        let Some(events) = rocket.state::<EventBus>().cloned() else {
            rocket::error!("the auth stage needs events::stage() attached first");
            return Err(rocket);
        };
        // A clock managed before ignition (a test's) wins; otherwise the system's.
        let (clock, rocket) = match rocket.state::<Clock>().cloned() {
            Some(clock) => (clock, rocket),
            None => (Clock::system(), rocket.manage(Clock::system())),
        };
        let key = SealingKey::from_config(config.totp_key.as_ref(), rocket.figment());
        let key = match key {
            Ok(key) => key,
            Err(e) => {
                rocket::error!("{e}");
                return Err(rocket);
            }
        };
        match Auth::new(config, db, events, clock, Some(key)).await {
            Ok(auth) => Ok(rocket.manage(auth)),
            Err(e) => {
                rocket::error!("cannot start the auth machinery: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(auth) = rocket.state::<Auth>().cloned() else {
            return;
        };
        // The auth machinery's links and notices go out through the mail stage's mailer.
        if let Some(mailer) = rocket.state::<Mailer>() {
            auth.use_mailer(mailer.clone());
        }
        let shutdown = rocket.shutdown();
        match auth.db().backend() {
            Backend::Postgres => {
                rocket::tokio::spawn(listener::run(auth.clone(), shutdown.clone()))
            }
            Backend::Sqlite => rocket::tokio::spawn(poller::run(auth.clone(), shutdown.clone())),
        };
        let flush_every = Duration::from_secs(auth.config.touch_interval.clamp(1, 5));
        let sweep_every = auth.config.sweep_interval;
        rocket::tokio::spawn(async move {
            let mut flush = rocket::tokio::time::interval(flush_every);
            let mut sweep = rocket::tokio::time::interval(Duration::from_secs(sweep_every.max(1)));
            let mut shutdown = std::pin::pin!(shutdown);
            loop {
                rocket::tokio::select! {
                    _ = &mut shutdown => break,
                    _ = flush.tick() => {
                        if let Err(e) = auth.flush_touches().await {
                            rocket::warn!("could not write last-used times: {e}");
                        }
                    }
                    _ = sweep.tick(), if sweep_every > 0 => {
                        if let Err(e) = auth.sweep().await {
                            rocket::warn!("expired-session sweep failed: {e}");
                        }
                    }
                }
            }
        });
    }

    async fn on_shutdown(&self, rocket: &Rocket<Orbit>) {
        if let Some(auth) = rocket.state::<Auth>() {
            // The entries of failed sign-ins still being written after their answers.
            let written =
                rocket::tokio::time::timeout(Duration::from_secs(5), auth.entries_written());
            if written.await.is_err() {
                rocket::warn!("activity entries still unwritten at shutdown");
            }
            if let Err(e) = auth.flush_touches().await {
                rocket::warn!("could not write last-used times at shutdown: {e}");
            }
            // The pool closes here, after the last write (see `DbPool::close`).
            auth.db().close().await;
        }
    }
}

/// Attaches the auth machinery; attach it after `db::stage()` and `events::stage()`.
pub fn stage() -> AdHoc {
    // Attached from inside ignition so that it runs after the database fairings it needs.
    AdHoc::on_ignite("Auth stage", |rocket| async { rocket.attach(AuthFairing) })
}
