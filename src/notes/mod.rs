//! The example feature, each signed-in user's notes at /api/notes: its routes and its table.
//! The README's "Removing the example" lists all of it.

/// The routes, behind the guard.
mod api;
/// The table: every query, and the rules a note keeps.
pub mod store;

pub use api::FEATURE;
