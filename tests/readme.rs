//! The README's recipe is the repository's own code. Each `rust,ignore` block of the README opens
//! with the file and the item(s) it quotes, `// src/api/notes.rs (readme: notes-handler)`, and
//! must equal what that file marks with `// readme: notes-handler` ... `// readme: end` (several
//! names: those items in order, a blank line between). Single items, never a whole list, so a
//! feature or a scope added next to them changes nothing here. An excerpt of the example may
//! outlive it: when its file or item is gone and "Removing the example" lists it, it is skipped.
//! (The README's other Rust blocks are compiled and run as doctests.)

use std::collections::BTreeMap;
use std::fs;

/// One excerpt block of the README.
struct Excerpt {
    /// The README line of the block's opening fence.
    line: usize,
    file: String,
    /// The marked items it quotes, in order.
    names: Vec<String>,
    code: String,
}

/// What "Removing the example" lists: (file, None) for a whole file, (file, Some(name)) for an
/// item marked in it.
type Removal = Vec<(String, Option<String>)>;

/// The README's excerpt blocks.
fn excerpts(readme: &str) -> Vec<Excerpt> {
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
        let heading = block.first().and_then(|first| {
            let (file, names) = first.strip_prefix("// ")?.split_once(" (readme: ")?;
            Some((file, names.strip_suffix(')')?))
        });
        let (file, names) = heading.unwrap_or_else(|| {
            panic!(
                "README line {}: open the block with the file and the item it quotes, \
                 `// src/api/notes.rs (readme: notes-handler)`",
                number + 1
            )
        });
        found.push(Excerpt {
            line: number + 1,
            file: file.to_string(),
            names: names.split(", ").map(str::to_string).collect(),
            code: block[1..].join("\n"),
        });
    }
    found
}

/// The list in the README's "Removing the example": the first `text` block of that section.
fn removal(readme: &str) -> Removal {
    let section = readme
        .split_once("\n## Removing the example\n")
        .expect("the README has a \"Removing the example\" section")
        .1;
    let block = section
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("\"Removing the example\" lists what to delete in a text block")
        .0;
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once(" readme: ") {
            Some((file, name)) => (file.trim().to_string(), Some(name.trim().to_string())),
            None => (l.trim().to_string(), None),
        })
        .collect()
}

/// The items a source file marks, by name: each region between `// readme: <name>` and the next
/// `// readme: end`, its common indentation removed.
fn marked_items(file: &str, source: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for (number, line) in source.lines().enumerate() {
        let marker = line.trim().strip_prefix("// readme: ");
        match (marker, open.as_mut()) {
            (Some("end"), Some(_)) => {
                let (name, lines) = open.take().unwrap();
                let previous = items.insert(name.clone(), dedent(&lines));
                assert!(
                    previous.is_none(),
                    "{file}: `// readme: {name}` marks two items"
                );
            }
            (Some(name), None) if name != "end" => open = Some((name.to_string(), Vec::new())),
            (Some(_), _) => panic!(
                "{file} line {}: `// readme:` markers come in pairs, `// readme: <name>` then \
                 `// readme: end`",
                number + 1
            ),
            (None, Some((_, lines))) => lines.push(line),
            (None, None) => {}
        }
    }
    if let Some((name, _)) = open {
        panic!("{file}: `// readme: {name}` has no `// readme: end`");
    }
    items
}

/// The lines without the indentation they all share.
fn dedent(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_readme_excerpt_is_the_item_it_names() {
    let readme = fs::read_to_string("README.md").expect("README.md");
    let removal = removal(&readme);
    let removed = |file: &str, name: Option<&str>| {
        removal
            .iter()
            .any(|(f, n)| f == file && (n.is_none() || n.as_deref() == name))
    };
    let excerpts = excerpts(&readme);
    assert!(excerpts.len() >= 4, "the recipe has its excerpts");
    let mut compared = 0;
    'excerpts: for Excerpt {
        line,
        file,
        names,
        code,
    } in excerpts
    {
        let source = match fs::read_to_string(&file) {
            Ok(source) => source,
            Err(_) if removed(&file, None) => continue,
            Err(e) => panic!(
                "README line {line} quotes {file} ({e}): if you removed it, remove or replace \
                 this block of the README too"
            ),
        };
        let items = marked_items(&file, &source);
        let mut quoted = Vec::new();
        for name in &names {
            match items.get(name) {
                Some(item) => quoted.push(item.as_str()),
                None if removed(&file, Some(name)) => continue 'excerpts,
                None => panic!(
                    "README line {line}: {file} marks no `// readme: {name}` item: mark the item \
                     this block quotes (`// readme: {name}` above it, `// readme: end` below), or \
                     replace the block"
                ),
            }
        }
        let expected = quoted.join("\n\n");
        assert!(
            code.trim_end() == expected,
            "README line {line}: this block is no longer {file}'s `readme: {}` as written; \
             copy it from {file} into the README:\n{expected}",
            names.join(", ")
        );
        compared += 1;
    }
    assert!(compared >= 1, "no README excerpt was compared");
}

#[test]
fn markers_and_the_removal_list_are_read_as_documented() {
    let source = "a\n    // readme: one\n    /// Doc.\n    item,\n    // readme: end\nb\n";
    let items = marked_items("x.rs", source);
    assert_eq!(items.len(), 1);
    assert_eq!(items["one"], "/// Doc.\nitem,");
    let readme = "x\n## Removing the example\n\nDelete:\n\n```text\nsrc/a.rs\nsrc/b.rs   \
                  readme: b-item\n```\n\n## Next\n```text\nnot/this.rs\n```\n";
    assert_eq!(
        removal(readme),
        vec![
            ("src/a.rs".to_string(), None),
            ("src/b.rs".to_string(), Some("b-item".to_string())),
        ]
    );
}

#[test]
#[should_panic(expected = "has no `// readme: end`")]
fn an_unclosed_marker_is_refused() {
    marked_items("x.rs", "// readme: one\nitem,\n");
}

/// The parts of the README only the template needs, which `cargo generate`'s hook
/// (.cargo-generate/rename.pl) deletes from a new app's copy: each `<!-- template-only` opens a
/// region that one `<!-- /template-only -->` closes, never nested, never a quoted excerpt inside
/// (the new app's README keeps every excerpt this file compares). A generated app has none.
#[test]
fn template_only_regions_are_closed_and_quote_no_excerpt() {
    let readme = fs::read_to_string("README.md").expect("README.md");
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("<!-- template-only") {
        let region = &rest[start + 1..];
        let end = region
            .find("<!-- /template-only -->")
            .expect("a `<!-- template-only` region of the README has no `<!-- /template-only -->`");
        let inside = &region[..end];
        assert!(
            !inside.contains("<!-- template-only") && !inside.contains("```rust,ignore"),
            "README: a template-only region holds another one or an excerpt:\n{inside}"
        );
        rest = &region[end + 1..];
    }
    assert!(
        !rest.contains("<!-- /template-only -->"),
        "README: a `<!-- /template-only -->` closes no region"
    );
}
