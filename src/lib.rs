//! multitoken: a Rocket 0.5 starter with real session management.
//!
//! Many hashed tokens per user (one per device), a guard that validates them through an
//! in-process cache, a JSON API to sign up, log in and out and manage sessions, an example
//! resource behind the guard, and HTML pages, on SQLite with no set-up or on PostgreSQL. Read
//! this file as the table of contents; docs/architecture.md draws the whole picture.

#[macro_use]
extern crate rocket;

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod db;
pub mod device;
pub mod events;
pub mod logging;
pub mod metrics;
pub mod password;
pub mod problem;
pub mod scopes;
pub mod site;
pub mod store;
pub mod text;
pub mod token;
pub mod web;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// The application on a given configuration (tests pass their own figment).
pub fn build(figment: Figment) -> Rocket<Build> {
    logging::install(
        figment
            .extract_inner("log_level")
            .unwrap_or(rocket::Config::default().log_level),
    );
    rocket::custom(figment)
        .attach(logging::stage())
        .attach(connections::stage())
        .attach(events::stage())
        .attach(db::stage())
        .attach(auth::stage())
        .attach(metrics::stage())
        .attach(api::stage())
        .attach(web::stage())
        .attach(web::SecurityHeaders)
        .attach(events::audit_log())
}

/// The application on Rocket.toml and `ROCKET_*` environment variables.
pub fn app() -> Rocket<Build> {
    build(figment())
}

/// Rocket's configuration (Rocket.toml, found in the working folder or any parent, then
/// `ROCKET_*` variables) over this app's own defaults, so that the binary is safe and complete
/// wherever it runs, even with no Rocket.toml: no `Server` banner, client IPs from the socket
/// (Rocket's own default trusts `X-Real-IP`, which any client can forge), the SQLite database,
/// and the templates and stylesheet of this source tree.
pub fn figment() -> Figment {
    use rocket::figment::providers::{Env, Format, Toml};
    use rocket::figment::Profile;
    Figment::from(rocket::Config::default())
        .merge(("ident", false))
        .merge(("ip_header", false))
        .merge(("databases.db.url", site::DEFAULT_DATABASE_URL))
        .merge((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        ))
        .merge(("static_dir", concat!(env!("CARGO_MANIFEST_DIR"), "/static")))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// The README's Rust examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
