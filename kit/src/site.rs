//! The app's identity: its name and every name made from it (page titles, the realm of
//! `WWW-Authenticate`, cookie names, the PostgreSQL channel, the default database file and token
//! prefix), in one place. The app makes it with [`site!`](crate::site!), which reads Cargo's
//! names of the *app's* package, so a renamed app (`cargo generate`) gets its own names without
//! editing the kit.
//!
//! One app per process: the kit records the site when it builds the app's Rocket
//! ([`crate::Kit::rocket`]), and every name is read from there. A leaf module: it reads nothing
//! else of the kit.

use std::sync::OnceLock;

/// The names an app goes by. Made by [`site!`](crate::site!) in the app's crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// The package name (`acme-notes`): page titles, the OpenAPI title, the realm.
    pub name: &'static str,
    /// The default prefix of every token (`token_prefix` overrides it): `mt_`, `acme_notes_`.
    pub token_prefix: &'static str,
    /// The app's folder (its `CARGO_MANIFEST_DIR`): where its templates and static files are
    /// when Rocket.toml does not say.
    pub root: &'static str,
    /// The session cookie over plain HTTP (`<crate>_session`), and when Secure (`__Host-…`).
    pub session_cookie: &'static str,
    pub session_cookie_host_only: &'static str,
    /// The signed-out forms' CSRF cookie (`<crate>_csrf`), and when Secure.
    pub csrf_cookie: &'static str,
    pub csrf_cookie_host_only: &'static str,
    /// The cookie of one-time messages after a redirect (`<crate>_flash`), and when Secure.
    pub flash_cookie: &'static str,
    pub flash_cookie_host_only: &'static str,
    /// The PostgreSQL channel on which revoked token hashes reach every instance.
    pub revoked_channel: &'static str,
    /// The database when none is configured: a SQLite file named after the app, under `data/`.
    pub default_database_url: &'static str,
}

/// The app's [`Site`], named after the package that calls it, with its default token prefix:
/// `session_kit::site!(token_prefix = "mt_")`.
#[macro_export]
macro_rules! site {
    (token_prefix = $prefix:literal) => {
        $crate::Site {
            name: env!("CARGO_PKG_NAME"),
            token_prefix: $prefix,
            root: env!("CARGO_MANIFEST_DIR"),
            session_cookie: concat!(env!("CARGO_CRATE_NAME"), "_session"),
            session_cookie_host_only: concat!("__Host-", env!("CARGO_CRATE_NAME"), "_session"),
            csrf_cookie: concat!(env!("CARGO_CRATE_NAME"), "_csrf"),
            csrf_cookie_host_only: concat!("__Host-", env!("CARGO_CRATE_NAME"), "_csrf"),
            flash_cookie: concat!(env!("CARGO_CRATE_NAME"), "_flash"),
            flash_cookie_host_only: concat!("__Host-", env!("CARGO_CRATE_NAME"), "_flash"),
            revoked_channel: concat!(env!("CARGO_CRATE_NAME"), "_revoked"),
            default_database_url: concat!("sqlite://data/", env!("CARGO_PKG_NAME"), ".sqlite3"),
        }
    };
}

static SITE: OnceLock<Site> = OnceLock::new();

/// Records the app's site for this process. Building the same app again (tests do, many times)
/// is fine; another app's site in the same process is a mistake, and panics.
pub(crate) fn set(site: Site) {
    let recorded = SITE.get_or_init(|| site);
    assert_eq!(
        *recorded, site,
        "one app per process: the kit already serves {}",
        recorded.name
    );
}

/// The app's site. Before an app is built (the kit's own unit tests), the kit's own names.
pub fn get() -> &'static Site {
    SITE.get_or_init(|| site!(token_prefix = "sk_"))
}
