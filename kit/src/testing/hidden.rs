//! Strings with hidden characters, for the tests of the rule for names and text shown back.

/// Strings that may show nothing at all.
pub const INVISIBLE: [&str; 9] = [
    "\u{200B}",
    "\u{FEFF}",
    "\u{2060}\u{200D}",
    "\u{3164}",
    "\u{2800}",
    "\u{115F}\u{1160}",
    "\u{AD}",
    "\u{FE0F}",
    " \u{3000}\u{A0}",
];

/// A hidden character inside otherwise good text, one of each kind.
pub const HIDDEN_INSIDE: [&str; 8] = [
    "a\u{202E}b",
    "a\u{2066}b\u{2069}",
    "a\u{200F}b",
    "a\u{200B}b",
    "a\u{FEFF}b",
    "a\u{2028}b",
    "a\u{2029}b",
    "a\u{1B}b",
];

/// Strings to try every rule on: each character of the Basic Multilingual Plane alone, inside
/// and at either end, and mixes of blank, modifier and hidden characters at the edges.
pub fn tried() -> Vec<String> {
    let mut tried: Vec<String> = (0..=0xFFFFu32)
        .filter_map(char::from_u32)
        .flat_map(|c| {
            [
                format!("{c}"),
                format!("a{c}b"),
                format!("{c}a"),
                format!("a{c}"),
            ]
        })
        .collect();
    for edge in INVISIBLE.iter().chain(HIDDEN_INSIDE.iter()) {
        tried.extend([
            format!("{edge}x{edge}"),
            format!("\u{FE0F}{edge}x"),
            format!("x\u{FE0F}{edge}"),
        ]);
    }
    tried.extend(["x\u{FE0F}".into(), "\u{2764}\u{FE0F}".into()]);
    // Lengths around the bounds (100 and 200 characters), and long ones that only trimming
    // brings within them.
    tried.extend(
        [0, 1, 2, 99, 100, 101, 199, 200, 201]
            .map(|n| "é".repeat(n))
            .into_iter()
            .chain([
                format!("\u{3164}{}\u{2800}", "x".repeat(200)),
                format!("\u{FE0F}{}\u{FE0F}", "x".repeat(199)),
            ]),
    );
    tried
}
