//! The README's recipe is the repository's own code: every `rust,ignore` block of the README
//! whose first line names a file (`// src/api/notes.rs`) must stand in that file word for word.
//! (The README's other Rust blocks are compiled and run as doctests.)

use std::fs;

/// Each excerpt block: (line of the README, file it names, the block's code).
fn excerpts(readme: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        if line.trim() != "```rust,ignore" {
            continue;
        }
        let block: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| l.trim() != "```")
            .collect();
        let file = block
            .first()
            .and_then(|first| first.strip_prefix("// "))
            .unwrap_or_else(|| {
                panic!(
                    "README line {}: name the file on the first line",
                    number + 1
                )
            });
        found.push((number + 1, file.to_string(), block[1..].join("\n")));
    }
    found
}

#[test]
fn every_readme_excerpt_stands_in_its_file() {
    let readme = fs::read_to_string("README.md").expect("README.md");
    let excerpts = excerpts(&readme);
    assert!(excerpts.len() >= 4, "the recipe has its excerpts");
    for (line, file, code) in excerpts {
        let source = fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "README line {line} quotes {file} ({e}): if you removed it, remove or \
                     replace this block of the README too"
            )
        });
        assert!(
            source.contains(&code),
            "README line {line}: this block no longer stands in {file} as written; \
             copy the current code from {file} into the README:\n{code}"
        );
    }
}
