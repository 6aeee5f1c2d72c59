//! The kit's handlers take narrow handles (`Sessions`, `SignIns`, `Tokens`, `Accounts`,
//! `Recovery`, `TwoFactor`, `Settings`), never the whole machinery: no file of the API or the
//! pages names `State<Auth>`, so none can reach the sweep, disabling an account, revoking a
//! session by id or the password hasher.

use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_handler_takes_the_whole_machinery() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for folder in ["api", "web"] {
        sources(&src.join(folder), &mut files);
    }
    assert!(files.len() > 10, "too few sources found: {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("a readable source");
            text.contains("State<Auth>")
        })
        .map(|path| {
            path.strip_prefix(&src)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these take &State<Auth>; give their handlers the narrow handle they need \
         (kit/src/auth/handles.rs): {offenders:?}"
    );
}
