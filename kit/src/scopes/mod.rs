//! Every scope a personal token may hold, each declared once with [`scopes!`](crate::scopes!):
//! its marker type (what a route names in its signature, `Scoped<'_, SessionsRead>`), its name
//! and a one-line description. The kit declares its own below; an app declares its own the same
//! way, in its src/scopes.rs, and passes them to [`crate::Kit::scopes`]. The kit records both
//! lists when it builds the app (`registry.rs`); `GET /api/scopes`, the token form and the OpenAPI
//! document all read that one list.
//!
//! Adding a scope is one line in the app's `scopes!`; then guard a route with it:
//! `session: Scoped<'_, MyScope>`. The OpenAPI document names it from that signature, and a
//! route guarded by a scope that was not passed to `Kit::scopes` does not launch.
//!
//! Sessions from a sign-in (browser, API login) have full access, written `*`: every scope, and
//! what no scope grants (creating tokens, sudo, changing the password).

mod registry;
mod set;

pub use set::{Access, ScopeSet};

use std::any::TypeId;

/// A scope, as a type: what the `Scoped<'_, S>` guard checks. Declared by [`scopes!`](crate::scopes!).
pub trait Scope: Send + Sync + 'static {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
}

/// A scope as `GET /api/scopes` lists it.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct ScopeInfo {
    #[schema(example = "profile:read")]
    pub name: &'static str,
    #[schema(example = "Read your username and account id")]
    pub description: &'static str,
    /// Its marker type's id: how the OpenAPI document finds the scope in a route's signature.
    #[serde(skip)]
    pub type_id: TypeIdOf,
}

/// `TypeId::of` a scope's marker type.
pub type TypeIdOf = fn() -> TypeId;

impl ScopeInfo {
    /// The entry of the scope `S`.
    pub const fn of<S: Scope>() -> ScopeInfo {
        ScopeInfo {
            name: S::NAME,
            description: S::DESCRIPTION,
            type_id: TypeId::of::<S>,
        }
    }
}

/// Declares scopes, `Type = "name", "description";` one per line, each with its doc comment: a
/// marker type per scope, and `ALL`, every scope declared here in order, for
/// [`Kit::scopes`](crate::Kit::scopes). An empty list is fine: `session_kit::scopes! {}`.
#[macro_export]
macro_rules! scopes {
    ($($(#[$doc:meta])* $ty:ident = $name:literal, $description:literal;)*) => {
        $(
            $(#[$doc])*
            pub struct $ty;

            impl $crate::scopes::Scope for $ty {
                const NAME: &'static str = $name;
                const DESCRIPTION: &'static str = $description;
            }
        )*

        /// Every scope declared here, in order.
        pub const ALL: &[$crate::scopes::ScopeInfo] = &[$($crate::scopes::ScopeInfo::of::<$ty>()),*];
    };
}

crate::scopes! {
    /// `GET /api/me`.
    ProfileRead = "profile:read", "Read your username and account id";
    /// `GET /api/sessions` (live and ended) and `GET /api/activity`.
    SessionsRead = "sessions:read", "List your sessions, devices and tokens";
    /// `DELETE /api/sessions/{id}` and `POST /api/auth/logout-all`.
    SessionsWrite = "sessions:write", "Revoke your sessions and sign out everywhere";
}

/// Records the scopes this process serves: the kit's own ([`ALL`]), then the app's, in order.
/// A name declared twice panics.
pub(crate) fn register(app: &[ScopeInfo]) {
    registry::set(ALL.iter().chain(app).copied().collect());
}

/// Every scope this process serves, the kit's then the app's. Before an app is built (the kit's
/// own unit tests), the kit's alone.
pub fn registered() -> &'static [ScopeInfo] {
    registry::get().unwrap_or(ALL)
}

/// Whether a scope of this name is served.
pub fn is_registered(name: &str) -> bool {
    registered().iter().any(|s| s.name == name)
}

/// How full access is written where scope names are listed.
pub const FULL_ACCESS: &str = "*";
