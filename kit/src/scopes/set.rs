//! What a session may do: [`Access`], full (a sign-in) or a personal token's [`ScopeSet`], as
//! the `scopes` column stores it and as the guards check it.

use super::{is_registered, registered, FULL_ACCESS};
use std::fmt;

/// A set of served scopes, by name, in the order they are served ([`registered`]).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(Vec<&'static str>);

impl ScopeSet {
    /// From names a client sent; `Err` names the first that is not a served scope.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<ScopeSet, String> {
        if let Some(unknown) = names
            .iter()
            .map(AsRef::as_ref)
            .find(|name| !is_registered(name))
        {
            return Err(unknown.to_string());
        }
        Ok(ScopeSet::matching(|name| {
            names.iter().any(|n| n.as_ref() == name)
        }))
    }

    /// From the `scopes` column: names separated by spaces. A name no longer served grants
    /// nothing.
    pub fn from_column(text: &str) -> ScopeSet {
        ScopeSet::matching(|name| text.split(' ').any(|n| n == name))
    }

    /// The served scopes whose names pass `wanted`, in the order served.
    fn matching(wanted: impl Fn(&str) -> bool) -> ScopeSet {
        ScopeSet(
            registered()
                .iter()
                .map(|s| s.name)
                .filter(|name| wanted(name))
                .collect(),
        )
    }

    /// As the `scopes` column stores it.
    pub fn to_column(&self) -> String {
        self.0.join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(&name)
    }

    /// The names, in the order served.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// What a session may do: everything (a sign-in), or only its scopes (a personal token).
#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn is_full(&self) -> bool {
        *self == Access::Full
    }

    /// Whether a route that needs the scope of this name may be used.
    pub fn allows(&self, scope: &str) -> bool {
        match self {
            Access::Full => true,
            Access::Scoped(set) => set.contains(scope),
        }
    }

    /// As session entries list it: `["*"]` for full access.
    pub fn names(&self) -> Vec<String> {
        match self {
            Access::Full => vec![FULL_ACCESS.to_string()],
            Access::Scoped(set) => set.names().map(str::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ProfileRead, Scope, SessionsRead, SessionsWrite, ALL};
    use super::*;

    #[test]
    fn names_round_trip_through_the_column() {
        let set = ScopeSet::from_names(&["sessions:write", "profile:read"]).unwrap();
        assert_eq!(set.to_column(), "profile:read sessions:write");
        assert_eq!(ScopeSet::from_column(&set.to_column()), set);
        assert!(set.contains(SessionsWrite::NAME) && !set.contains(SessionsRead::NAME));
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
        assert!(ALL.iter().all(|s| Access::Full.allows(s.name)));
        let token = Access::from_column(Some("profile:read"));
        assert!(token.allows(ProfileRead::NAME) && !token.allows(SessionsRead::NAME));
        assert_eq!(Access::from_column(None), Access::Full);
        assert_eq!(Access::Full.names(), vec!["*"]);
        assert_eq!(token.names(), vec!["profile:read"]);
    }

    #[test]
    fn a_set_keeps_each_scope_once_in_the_order_served() {
        let set =
            ScopeSet::from_names(&["sessions:read", "profile:read", "sessions:read"]).unwrap();
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["profile:read", "sessions:read"]
        );
    }
}
