//! The mail stage: reads `[mail]` and the templates at ignition (a bad value or a broken
//! template stops the start, with the reason in the log), says at liftoff where mail goes, and
//! runs the sender until shutdown.

use super::{sender, MailConfig, Mailer, Transport};
use crate::clock::Clock;
use crate::db::Db;
use rocket::fairing::{self, AdHoc, Fairing, Info, Kind};
use rocket::figment::value::magic::RelativePathBuf;
use rocket::{Build, Orbit, Rocket};
use rocket_db_pools::Database;

struct MailFairing;

#[rocket::async_trait]
impl Fairing for MailFairing {
    fn info(&self) -> Info {
        Info {
            name: "Mail",
            kind: Kind::Ignite | Kind::Liftoff,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match MailConfig::from_figment(rocket.figment()) {
            Ok(config) => config,
            Err(e) => {
                rocket::error!("{e}");
                return Err(rocket);
            }
        };
        let template_dir = rocket
            .figment()
            .extract_inner::<RelativePathBuf>("template_dir")
            .map(|dir| dir.relative())
            .unwrap_or_else(|_| "templates".into());
        let Some(db) = Db::fetch(&rocket).map(|db| (**db).clone()) else {
            rocket::error!("the mail stage needs db::stage() attached first");
            return Err(rocket);
        };
        let clock = rocket.state::<Clock>().cloned().unwrap_or_default();
        match Mailer::new(config, &template_dir, db, clock) {
            Ok(mailer) => Ok(rocket.manage(mailer)),
            Err(e) => {
                rocket::error!("cannot start the mail machinery: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(mailer) = rocket.state::<Mailer>().cloned() else {
            return;
        };
        let config = mailer.config();
        let whereto = config.destination();
        if config.transport == Transport::File {
            let line = format!(
                "mail is written to {whereto}, not delivered; to deliver it, set \
                 [default.mail] transport = \"smtp\" and smtp_url"
            );
            // Shown at the release build's default level too.
            if cfg!(debug_assertions) {
                rocket::info!("{line}");
            } else {
                rocket::warn!("{line}");
            }
        } else {
            rocket::info!("mail is delivered through {whereto}");
        }
        rocket::tokio::spawn(sender::run(mailer, rocket.shutdown()));
    }
}

/// Attaches the mail machinery; attach it after the auth stage (whose clock it reads).
pub fn stage() -> AdHoc {
    // Attached from inside ignition so that it runs after the database fairings it needs.
    AdHoc::on_ignite("Mail stage", |rocket| async { rocket.attach(MailFairing) })
}
