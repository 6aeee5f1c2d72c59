//! The session kit: the machinery of a Rocket 0.5 app with real account and session management.
//!
//! Many hashed tokens per user (one per device), a guard that validates them through an
//! in-process cache, a JSON API to sign up, log in and out and manage sessions and personal
//! tokens, the HTML pages of the same, and the operations around them (metrics, connection
//! bounds, revocation across instances), on SQLite with no set-up or on PostgreSQL. An app
//! builds on it with [`Kit`]; its routes take what they need from [`prelude`]. Read this file
//! as the table of contents; kit/README.md and docs/architecture.md draw the whole picture.

#[macro_use]
extern crate rocket;

pub mod address;
pub mod api;
// The machinery's internals: the `Auth` state (sign-in, sessions, the cache, sweeps, disabling
// accounts), the SQL, the hasher. An app reaches what it needs through the prelude's guards and
// handles; the kit's own tests (feature `testing`) reach in further.
#[cfg(feature = "testing")]
pub mod auth;
#[cfg(not(feature = "testing"))]
mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod db;
pub mod device;
pub mod events;
pub mod logging;
/// Mail: templates, a transactional outbox and a background sender (file or SMTP).
pub mod mail;
pub mod metrics;
pub mod migrations;
#[cfg(feature = "testing")]
pub mod password;
#[cfg(not(feature = "testing"))]
mod password;
pub mod problem;
pub mod scopes;
mod site;
#[cfg(feature = "testing")]
pub mod store;
#[cfg(not(feature = "testing"))]
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod token;
pub mod two_factor;
pub mod web;

pub use site::Site;

/// What a route author needs, in one `use session_kit::prelude::*;`: the guards, the answer
/// types, the database and the clock, the macros that declare routes, and (with the `testing`
/// feature, in tests) the harness.
pub mod prelude {
    pub use crate::api::openapi::{NotFound, ProblemDoc};
    pub use crate::api::{ApiResult, Feature, JsonBody};
    pub use crate::auth::{CurrentSession, Mfa, Scoped, Sudo, SudoOrPassword};
    pub use crate::clock::Clock;
    pub use crate::db::Db;
    pub use crate::problem::Problem;
    pub use crate::scopes::Scope;
    pub use crate::token::{new_public_id, PublicId};
    pub use crate::{api_routes, site, Kit, Site};
    pub use rocket::http::Status;
    pub use rocket::response::status::Created;
    pub use rocket::serde::json::Json;
    pub use rocket::{delete, get, patch, post, put, State};
    pub use rocket_db_pools::Connection;

    #[cfg(feature = "testing")]
    pub use crate::testing::{TestApp, PASSWORD};
    #[cfg(feature = "testing")]
    pub use serde_json::json;
}

use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// An app on the kit: its names ([`site!`]), and the API features and scopes it adds to the
/// kit's own. `build()` in the app's lib.rs is this, ending in [`Kit::rocket`].
pub struct Kit {
    site: Site,
    features: Vec<api::Feature>,
    scopes: Vec<scopes::ScopeInfo>,
    migrations: migrations::AppMigrations,
}

impl Kit {
    /// The kit alone, under the app's names.
    pub fn new(site: Site) -> Kit {
        Kit {
            site,
            features: Vec::new(),
            scopes: Vec::new(),
            migrations: migrations::AppMigrations::default(),
        }
    }

    /// The app's migrations (its migrations/ folders, from [`migrations!`]): they run at start
    /// after the kit's, and are recorded apart from them (see [`migrations`]).
    pub fn migrations(mut self, migrations: migrations::AppMigrations) -> Kit {
        self.migrations = migrations;
        self
    }

    /// Adds an API feature (a module's `FEATURE`, from [`api_routes!`]): its routes are mounted
    /// at /api after the kit's own, and described in the OpenAPI document.
    pub fn api(mut self, feature: api::Feature) -> Kit {
        self.features.push(feature);
        self
    }

    /// Adds the app's scopes (the `ALL` of its [`scopes!`]): served after the kit's own, in this
    /// order. A scope's name must be new: one the kit or the app already declares panics at start.
    pub fn scopes(mut self, scopes: &'static [scopes::ScopeInfo]) -> Kit {
        self.scopes.extend_from_slice(scopes);
        self
    }

    /// The app on a given configuration (tests pass their own figment): the kit's stages, in
    /// the order they start, then the app's features.
    pub fn rocket(self, figment: Figment) -> Rocket<Build> {
        site::set(self.site);
        scopes::register(&self.scopes);
        logging::install(
            figment
                .extract_inner("log_level")
                .unwrap_or(rocket::Config::default().log_level),
        );
        rocket::custom(figment)
            .attach(logging::stage())
            .attach(connections::stage())
            .attach(events::stage())
            .attach(db::stage(self.migrations))
            .attach(auth::stage())
            .attach(mail::stage())
            .attach(metrics::stage())
            .attach(api::stage(self.features))
            .attach(web::stage())
            .attach(web::SecurityHeaders)
            .attach(events::audit_log())
    }

    /// Rocket's configuration (Rocket.toml, found in the working folder or any parent, then
    /// `ROCKET_*` variables) over the kit's own defaults, so that the binary is safe and
    /// complete wherever it runs, even with no Rocket.toml: no `Server` banner, client IPs from
    /// the socket (Rocket's own default trusts `X-Real-IP`, which any client can forge), the
    /// app's SQLite database, and the templates and stylesheet of the app's source tree.
    pub fn figment(&self) -> Figment {
        use rocket::figment::providers::{Env, Format, Toml};
        use rocket::figment::Profile;
        Figment::from(rocket::Config::default())
            .merge(("ident", false))
            .merge(("ip_header", false))
            .merge(("databases.db.url", self.site.default_database_url))
            .merge(("template_dir", format!("{}/templates", self.site.root)))
            .merge(("static_dir", format!("{}/static", self.site.root)))
            .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
            .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
            .select(Profile::from_env_or(
                "ROCKET_PROFILE",
                rocket::Config::DEFAULT_PROFILE,
            ))
    }

    /// The app's `main`: serves on Rocket.toml, or runs the admin command the arguments name
    /// (`--help` lists them).
    pub async fn main(self) -> std::process::ExitCode {
        use std::process::ExitCode;
        site::set(self.site);
        scopes::register(&self.scopes);
        let args: Vec<String> = std::env::args().skip(1).collect();
        match cli::parse(&args) {
            cli::Command::Exit(code) => code,
            cli::Command::Serve => {
                let figment = self.figment();
                match self.rocket(figment).launch().await {
                    Ok(_) => ExitCode::SUCCESS,
                    Err(e) => {
                        // Logs the cause (and marks the error handled, so it does not panic on drop).
                        e.pretty_print();
                        ExitCode::FAILURE
                    }
                }
            }
            cli::Command::Admin(admin) => {
                match cli::run(admin, self.figment(), &self.migrations).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(msg) => {
                        eprintln!("error: {msg}");
                        ExitCode::FAILURE
                    }
                }
            }
        }
    }
}
