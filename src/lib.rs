//! multitoken: a Rocket 0.5 starter with real session management.
//!
//! Many hashed tokens per user (one per device), a guard that validates them through an
//! in-process cache, a JSON API to sign up, log in and out and manage sessions, on SQLite with no
//! set-up or on PostgreSQL. Read this file as the table of contents.

#[macro_use]
extern crate rocket;

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod device;
pub mod events;
pub mod password;
pub mod problem;
pub mod store;
pub mod token;
pub mod web;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// The application on a given configuration (tests pass their own figment).
pub fn build(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(db::stage())
        .attach(auth::stage())
        .attach(api::stage())
        .attach(web::stage())
        .attach(web::SecurityHeaders)
        .attach(events::audit_log())
}

/// The application on Rocket.toml and `ROCKET_*` environment variables.
pub fn app() -> Rocket<Build> {
    build(rocket::Config::figment())
}
