//! Every scope a personal token may hold, declared once, in the list below: its marker type (what
//! a route names in its signature, `Scoped<NotesWrite>`), its name and a one-line description.
//! `GET /api/scopes`, the token form and the OpenAPI document all read this list.
//!
//! Adding a scope is one line in [`scopes!`] below; then guard a route with it:
//! `session: Scoped<'_, MyScope>`.
//!
//! Sessions from a sign-in (browser, API login) have full access, written `*`: every scope, and
//! what no scope grants (creating tokens, sudo, changing the password).

use std::fmt;

/// A scope, as a type: what the `Scoped<'_, S>` guard checks.
pub trait Scope: Send + Sync + 'static {
    const NAME: &'static str;
    /// Its bit in a [`ScopeSet`].
    const BIT: u64;
}

/// A scope as `GET /api/scopes` lists it.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct ScopeInfo {
    #[schema(example = "profile:read")]
    pub name: &'static str,
    #[schema(example = "Read your username and account id")]
    pub description: &'static str,
    #[serde(skip)]
    pub bit: u64,
}

/// Declares the scopes: `Type = "name", "description";`, one per line.
macro_rules! scopes {
    ($($(#[$doc:meta])* $ty:ident = $name:literal, $description:literal;)+) => {
        #[allow(clippy::enum_variant_names)]
        #[repr(u8)]
        enum Bit { $($ty),+ }

        $(
            $(#[$doc])*
            pub struct $ty;

            impl Scope for $ty {
                const NAME: &'static str = $name;
                const BIT: u64 = 1 << (Bit::$ty as u8);
            }
        )+

        /// Every scope, in the order declared.
        pub const ALL: &[ScopeInfo] = &[$(ScopeInfo {
            name: $name,
            description: $description,
            bit: <$ty as Scope>::BIT,
        }),+];

        const _: () = assert!(ALL.len() <= 64, "a ScopeSet holds at most 64 scopes");
    };
}

scopes! {
    /// `GET /api/me`.
    ProfileRead = "profile:read", "Read your username and account id";
    /// `GET /api/sessions` (live and ended) and `GET /api/activity`.
    SessionsRead = "sessions:read", "List your sessions, devices and tokens";
    /// `DELETE /api/sessions/{id}` and `POST /api/auth/logout-all`.
    SessionsWrite = "sessions:write", "Revoke your sessions and sign out everywhere";
    // readme: notes-scopes
    /// Listing and reading notes.
    NotesRead = "notes:read", "Read your notes";
    /// Creating, changing and deleting notes.
    NotesWrite = "notes:write", "Create, change and delete your notes";
    // readme: end
}

/// How full access is written where scope names are listed.
pub const FULL_ACCESS: &str = "*";

/// A set of declared scopes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u64);

impl ScopeSet {
    /// From names a client sent; `Err` names the first that is not a declared scope.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<ScopeSet, String> {
        let mut set = ScopeSet::default();
        for name in names {
            let name = name.as_ref();
            let info = ALL
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| name.to_string())?;
            set.0 |= info.bit;
        }
        Ok(set)
    }

    /// From the `scopes` column: names separated by spaces. A name no longer declared grants
    /// nothing.
    pub fn from_column(text: &str) -> ScopeSet {
        let bits = ALL
            .iter()
            .filter(|s| text.split(' ').any(|name| name == s.name))
            .fold(0, |bits, s| bits | s.bit);
        ScopeSet(bits)
    }

    /// As the `scopes` column stores it.
    pub fn to_column(self) -> String {
        self.names().collect::<Vec<_>>().join(" ")
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, bit: u64) -> bool {
        self.0 & bit != 0
    }

    /// The names, in the order declared.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        ALL.iter()
            .filter(move |s| self.contains(s.bit))
            .map(|s| s.name)
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// What a session may do: everything (a sign-in), or only its scopes (a personal token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    Scoped(ScopeSet),
}

impl Access {
    /// From the `scopes` column: NULL is full access.
    pub fn from_column(column: Option<&str>) -> Access {
        match column {
            None => Access::Full,
            Some(text) => Access::Scoped(ScopeSet::from_column(text)),
        }
    }

    pub fn is_full(self) -> bool {
        self == Access::Full
    }

    /// Whether a route that needs the scope with this bit may be used.
    pub fn allows(self, bit: u64) -> bool {
        match self {
            Access::Full => true,
            Access::Scoped(set) => set.contains(bit),
        }
    }

    /// As session entries list it: `["*"]` for full access.
    pub fn names(self) -> Vec<String> {
        match self {
            Access::Full => vec![FULL_ACCESS.to_string()],
            Access::Scoped(set) => set.names().map(str::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_column() {
        let set = ScopeSet::from_names(&["sessions:write", "profile:read"]).unwrap();
        assert_eq!(set.to_column(), "profile:read sessions:write");
        assert_eq!(ScopeSet::from_column(&set.to_column()), set);
        assert!(set.contains(SessionsWrite::BIT) && !set.contains(SessionsRead::BIT));
    }

    #[test]
    fn unknown_names_are_refused_from_clients_and_grant_nothing_from_the_column() {
        assert_eq!(
            ScopeSet::from_names(&["sessions:read", "admin"]),
            Err("admin".into())
        );
        assert_eq!(ScopeSet::from_names(&["*"]), Err("*".into()));
        assert!(ScopeSet::from_column("admin *").is_empty());
    }

    #[test]
    fn full_access_allows_every_scope_and_a_token_only_its_own() {
        assert!(ALL.iter().all(|s| Access::Full.allows(s.bit)));
        let token = Access::from_column(Some("profile:read"));
        assert!(token.allows(ProfileRead::BIT) && !token.allows(SessionsRead::BIT));
        assert_eq!(Access::from_column(None), Access::Full);
        assert_eq!(Access::Full.names(), vec!["*"]);
        assert_eq!(token.names(), vec!["profile:read"]);
    }

    #[test]
    fn every_scope_has_its_own_bit() {
        let all = ALL.iter().fold(0u64, |bits, s| {
            assert_eq!(bits & s.bit, 0, "{} shares a bit", s.name);
            bits | s.bit
        });
        assert_eq!(all.count_ones() as usize, ALL.len());
    }
}
