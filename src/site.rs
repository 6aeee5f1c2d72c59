//! The app's identity: its name and every name made from it, in one place. Cargo gives both
//! forms, so a renamed app (`cargo generate`) gets its own names without editing this file: the
//! package name for what people read, and the crate name (the package name with `_` for `-`)
//! where an identifier fits better, in cookie names and the PostgreSQL channel.
//!
//! A leaf module: everything that names the app reads it from here, nothing here reads the rest.
//! (The token prefix is the `token_prefix` setting; its default is in `token.rs`.)

/// The app's name, from Cargo.toml: page titles and the OpenAPI document's title.
pub const NAME: &str = env!("CARGO_PKG_NAME");

/// The realm named in `WWW-Authenticate` challenges (API and `/metrics`): the app's name.
pub const REALM: &str = NAME;

/// The cookie that holds a browser session's token, over plain HTTP (`<crate>_session`).
pub const SESSION_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_session");
/// Its name when the cookie is Secure: only this host may set it.
pub const SESSION_COOKIE_HOST_ONLY: &str = concat!("__Host-", env!("CARGO_CRATE_NAME"), "_session");

/// The cookie that holds the signed-out forms' CSRF token (`<crate>_csrf`), over plain HTTP.
pub const CSRF_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_csrf");
/// Its name when Secure.
pub const CSRF_COOKIE_HOST_ONLY: &str = concat!("__Host-", env!("CARGO_CRATE_NAME"), "_csrf");

/// The cookie of one-time messages after a redirect (`<crate>_flash`), over plain HTTP.
pub const FLASH_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_flash");
/// Its name when Secure.
pub const FLASH_COOKIE_HOST_ONLY: &str = concat!("__Host-", env!("CARGO_CRATE_NAME"), "_flash");

/// The PostgreSQL channel on which revoked token hashes reach every instance.
pub const REVOKED_CHANNEL: &str = concat!(env!("CARGO_CRATE_NAME"), "_revoked");

/// The database when none is configured: a SQLite file named after the app, under `data/`.
pub const DEFAULT_DATABASE_URL: &str =
    concat!("sqlite://data/", env!("CARGO_PKG_NAME"), ".sqlite3");
