//! The narrow handles the kit's handlers take instead of the whole [`Auth`]: each is a request
//! guard that offers one concern's operations (its methods live beside the code they run, in
//! this folder's other files), and none reaches the sweep, disabling an account, revoking a
//! session by id or the password hasher, which stay the command line's and the stages'.

use super::{Auth, AuthError, CurrentSession, Sudo};
use crate::clock::Clock;
use crate::config::AuthConfig;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Sentinel};

/// Declares each handle: the type, `config()`, the accessors named in braces (`clock`,
/// `sudo_mode`), the request guard (from the managed [`Auth`]) and the sentinel that stops a
/// launch without the auth stage.
macro_rules! handles {
    ($($(#[$doc:meta])* $name:ident { $($extra:ident),* })*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'r>(pub(super) &'r Auth);

        impl<'r> $name<'r> {
            /// The auth settings (`[auth]` in Rocket.toml).
            pub fn config(&self) -> &'r AuthConfig {
                &self.0.config
            }
            $(handles!(@ $extra);)*
        }

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name<'r> {
            type Error = ();

            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
                match req.rocket().state::<Auth>() {
                    Some(auth) => Outcome::Success($name(auth)),
                    // The sentinel below makes this a set-up bug that never launches.
                    None => Outcome::Error((Status::InternalServerError, ())),
                }
            }
        }

        /// A route taking this handle cannot launch without the auth stage.
        impl Sentinel for $name<'_> {
            fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
                rocket.state::<Auth>().is_none()
            }
        }
    )*};
    (@ clock) => {
        /// The time every lifetime is measured by.
        pub fn clock(&self) -> &'r Clock {
            &self.0.clock
        }
    };
    (@ sudo_mode) => {
        /// The session in sudo mode, checked where a guard cannot (see [`Sudo::check`]).
        pub async fn sudo_mode<'s>(&self, session: &'s CurrentSession) -> Result<Sudo<'s>, AuthError> {
            Sudo::check(self.0, session).await
        }
    };
}

handles! {
    /// The user's sessions: listing the live and the ended ones and the activity log, ending
    /// one, all others, this one (logout) or all (logout everywhere).
    Sessions { clock }
    /// Signing up and in: sign-up, sign-in (with its held second step) and sudo mode by password
    /// or code.
    SignIns {}
    /// Personal tokens: making one and regenerating one (revoking one is ending a session).
    Tokens { sudo_mode }
    /// The user's account: its email address (read, change, remove, verify, a new link) and
    /// the password change.
    Accounts { sudo_mode }
    /// What a mailed link leads to: checking a link before its form is shown, and the password
    /// reset (the request, answered the same for every login, and the confirmation).
    Recovery {}
    /// Two-factor authentication: setting it up, confirming it, new recovery codes, turning it
    /// off.
    TwoFactor { sudo_mode }
    /// Settings only, for a page that shows a form and nothing more.
    Settings {}
}
