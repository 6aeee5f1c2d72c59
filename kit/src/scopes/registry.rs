//! The scopes this process serves: the kit's, then the app's, recorded once when the kit builds
//! the app ([`crate::Kit::rocket`]), like the app's [`Site`](crate::Site). A leaf: it holds the
//! list and checks it, and knows nothing of what a scope guards.

use super::ScopeInfo;
use std::sync::OnceLock;

static REGISTERED: OnceLock<Vec<ScopeInfo>> = OnceLock::new();

/// Records the scopes of this process. Two scopes of one name are a mistake, and panic; so is
/// another list in a process that already serves one (building the same app again is fine:
/// tests do, many times).
pub(super) fn set(scopes: Vec<ScopeInfo>) {
    for (i, scope) in scopes.iter().enumerate() {
        assert!(
            !scopes[..i].iter().any(|s| s.name == scope.name),
            "the scope `{}` is declared twice (the kit's and the app's scopes are {}): every \
             scope needs a name of its own",
            scope.name,
            names(&scopes),
        );
    }
    let recorded = REGISTERED.get_or_init(|| scopes.clone());
    assert!(
        names(recorded) == names(&scopes),
        "one app per process: the kit already serves the scopes {}, not {}",
        names(recorded),
        names(&scopes),
    );
}

/// The recorded scopes, once an app is built.
pub(super) fn get() -> Option<&'static [ScopeInfo]> {
    REGISTERED.get().map(Vec::as_slice)
}

fn names(scopes: &[ScopeInfo]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.name).collect();
    format!("[{}]", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::{ScopeInfo, ALL};
    use super::set;

    #[test]
    #[should_panic(expected = "the scope `profile:read` is declared twice")]
    fn a_name_declared_twice_panics() {
        let again = ScopeInfo {
            description: "Another scope of the same name",
            ..ALL[0]
        };
        set(ALL.iter().copied().chain([again]).collect());
    }
}
