//! multitoken: a Rocket 0.5 app with real account and session management, built on the session
//! kit (kit/). This file is its table of contents: the kit's stage under the app's names, then
//! the app's own features. Add a feature as a module below and one line in [`kit`].

/// The app's scopes, after the kit's: what a personal token may be given.
mod scopes;

// readme: notes-mod
/// The example feature: each user's notes, at /api/notes.
pub mod notes;
// readme: end

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use session_kit::Kit;

/// The app: the kit under this package's names, its tables (migrations/), then its features.
pub fn kit() -> Kit {
    Kit::new(session_kit::site!(token_prefix = "mt_"))
        .migrations(session_kit::migrations!())
        .scopes(scopes::ALL)
        // readme: notes-feature
        .api(notes::FEATURE)
    // readme: end
}

/// The app on a given configuration (tests pass their own figment).
pub fn build(figment: Figment) -> Rocket<Build> {
    kit().rocket(figment)
}

/// The app on Rocket.toml and `ROCKET_*` environment variables.
pub fn app() -> Rocket<Build> {
    let kit = kit();
    let figment = kit.figment();
    kit.rocket(figment)
}

/// The README's Rust examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
