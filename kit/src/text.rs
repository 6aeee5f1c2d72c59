//! The one rule for text that users give the app to show back: session names, personal token
//! names and note titles (and user agents, which come unasked).
//!
//! Three kinds of characters matter:
//! - **hidden** ones change how the text around them reads, or break a line, without showing
//!   themselves: control characters, bidi controls (U+202E makes a row of a list read reversed:
//!   "Trojan Source"), the line and paragraph separators, the zero-width space, the word joiner,
//!   the byte-order mark, and the deprecated and annotation format controls;
//! - **blank** ones show nothing: whitespace, fillers such as U+3164 or U+2800, and the
//!   zero-width non-joiner and joiner (U+200C, U+200D), which Persian and Indic words and emoji
//!   sequences such as 👩‍💻 need between their letters, so they may stand inside a name, never
//!   at its ends nor alone;
//! - **modifiers** (variation selectors) change the character before them, so cannot come first.
//!
//! A name the user picks on purpose (a token's name, a note's title) is trimmed of blank
//! characters (and of modifiers at its start); then it must be non-empty, within its length and
//! free of hidden characters, or it is refused with 422. Text that comes with a sign-in (the
//! session's name, the user agent) has its hidden characters dropped instead, since refusing a
//! sign-in over its label helps no one; a session name that only looks empty (not empty, but
//! nothing visible) is refused.
//!
//! The OpenAPI document states the same rule as patterns, built from the tables below
//! (src/api/schemas.rs); tests/text.rs checks that the two agree on every character.

/// Hidden characters, as inclusive ranges (all in the Basic Multilingual Plane, so that the
/// document's patterns can name them).
pub const HIDDEN: &[(char, char)] = &[
    // Control characters (general category Cc): C0, DEL and C1.
    ('\u{0}', '\u{1F}'),
    ('\u{7F}', '\u{9F}'),
    // Bidi controls: the Arabic letter mark, the marks, embeddings, overrides and isolates.
    ('\u{61C}', '\u{61C}'),
    ('\u{200E}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2066}', '\u{2069}'),
    // Line and paragraph separators.
    ('\u{2028}', '\u{2029}'),
    // Zero-width space, word joiner, byte-order mark.
    ('\u{200B}', '\u{200B}'),
    ('\u{2060}', '\u{2060}'),
    ('\u{FEFF}', '\u{FEFF}'),
    // Deprecated format controls (symmetric swapping, shaping, digit shapes), and interlinear
    // annotation, whose marked text a renderer may hide.
    ('\u{206A}', '\u{206F}'),
    ('\u{FFF9}', '\u{FFFB}'),
];

/// Blank characters: every whitespace character (`char::is_whitespace`), and those that show
/// nothing though they are not whitespace.
pub const BLANK: &[(char, char)] = &[
    ('\u{9}', '\u{D}'),
    ('\u{20}', '\u{20}'),
    ('\u{85}', '\u{85}'),
    ('\u{A0}', '\u{A0}'),
    ('\u{AD}', '\u{AD}'),     // soft hyphen
    ('\u{34F}', '\u{34F}'),   // combining grapheme joiner
    ('\u{115F}', '\u{1160}'), // Hangul fillers
    ('\u{1680}', '\u{1680}'),
    ('\u{17B4}', '\u{17B5}'), // Khmer inherent vowels
    ('\u{180E}', '\u{180E}'), // Mongolian vowel separator
    ('\u{2000}', '\u{200A}'),
    ('\u{200C}', '\u{200D}'), // zero-width non-joiner and joiner
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{2061}', '\u{2064}'), // invisible operators
    ('\u{2800}', '\u{2800}'), // Braille blank
    ('\u{3000}', '\u{3000}'),
    ('\u{3164}', '\u{3164}'), // Hangul filler
    ('\u{FFA0}', '\u{FFA0}'), // halfwidth Hangul filler
];

/// Modifiers: variation selectors (of emoji and others, and Mongolian ones).
pub const MODIFIER: &[(char, char)] = &[
    ('\u{180B}', '\u{180D}'),
    ('\u{180F}', '\u{180F}'),
    ('\u{FE00}', '\u{FE0F}'),
];

/// The control characters that multi-line text (a note's body) refuses: all but tab, line feed
/// and carriage return.
pub const TEXT_CONTROL: &[(char, char)] = &[
    ('\u{0}', '\u{8}'),
    ('\u{B}', '\u{C}'),
    ('\u{E}', '\u{1F}'),
    ('\u{7F}', '\u{9F}'),
];

fn within(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .iter()
        .any(|&(first, last)| (first..=last).contains(&c))
}

/// Whether `c` changes how text reads, or breaks a line, without showing itself.
pub fn is_hidden(c: char) -> bool {
    within(HIDDEN, c)
}

/// Whether `c` shows nothing (whitespace included).
pub fn is_blank(c: char) -> bool {
    within(BLANK, c)
}

/// Whether `c` modifies the character before it (a variation selector).
pub fn is_modifier(c: char) -> bool {
    within(MODIFIER, c)
}

/// `text` without its blank characters at both ends, nor the modifiers at its start.
pub fn trim(text: &str) -> &str {
    text.trim_start_matches(|c| is_blank(c) || is_modifier(c))
        .trim_end_matches(is_blank)
}

/// Checks a one-line name that a user picks (a token's name, a note's title): trimmed, then 1 to
/// `max` characters, none of them hidden. Returns the trimmed name, or why it is refused (a
/// sentence about `field`, for a 422).
pub fn check_name<'a>(field: &str, text: &'a str, max: usize) -> Result<&'a str, String> {
    let name = trim(text);
    if name.is_empty() {
        Err(format!("{field} must have a visible character"))
    } else if name.chars().count() > max {
        Err(format!("{field} must be 1 to {max} characters"))
    } else if name.chars().any(is_hidden) {
        Err(format!(
            "{field} must not contain control, bidi, zero-width or line separator characters"
        ))
    } else {
        Ok(name)
    }
}

/// Checks multi-line text (a note's body): at most `max_bytes` bytes, and no control character
/// but tab, line feed and carriage return. It may be empty; bidi marks and zero-width joiners
/// are part of writing many languages and emoji, so they stay.
pub fn check_text(field: &str, text: &str, max_bytes: usize) -> Result<(), String> {
    if text.len() > max_bytes {
        Err(format!("{field} must be at most {max_bytes} bytes"))
    } else if text.chars().any(|c| within(TEXT_CONTROL, c)) {
        Err(format!(
            "{field} must not contain control characters other than tab and line breaks"
        ))
    } else {
        Ok(())
    }
}

/// `text` without its hidden characters: for text that comes with a request (a user agent).
pub fn drop_hidden(text: &str) -> String {
    text.chars().filter(|&c| !is_hidden(c)).collect()
}

/// A label that comes with a sign-in (a session's name): hidden characters dropped, trimmed,
/// cut to `max_bytes` on a character boundary. `None` when nothing visible is left.
pub fn label(text: &str, max_bytes: usize) -> Option<String> {
    let kept = drop_hidden(text);
    let cut = crate::device::truncate(trim(&kept), max_bytes);
    Some(trim(&cut).to_string()).filter(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x10FFFFu32).filter_map(char::from_u32)
    }

    #[test]
    fn every_whitespace_character_is_blank_and_the_tables_do_not_overlap_oddly() {
        for c in all_chars() {
            if c.is_whitespace() {
                assert!(is_blank(c), "{c:?}");
            }
            assert!(!(is_modifier(c) && (is_blank(c) || is_hidden(c))), "{c:?}");
            if is_hidden(c) && is_blank(c) {
                // Only the whitespace that breaks a line or is a control character is both.
                assert!(c.is_whitespace(), "{c:?}");
            }
            if c.is_control() {
                assert!(is_hidden(c), "{c:?}");
            }
        }
    }

    #[test]
    fn names_are_trimmed_of_blanks_and_refused_when_nothing_visible_is_left() {
        assert_eq!(check_name("name", "  ci \t", 100), Ok("ci"));
        assert_eq!(check_name("name", "\u{3164}ci\u{2800}", 100), Ok("ci"));
        assert_eq!(
            check_name("name", "\u{FE0F}ci\u{FE0F}", 100),
            Ok("ci\u{FE0F}")
        );
        assert_eq!(check_name("name", "a b", 3), Ok("a b"));
        // Joiners stay between letters (an emoji sequence, a Persian word), never alone.
        assert_eq!(check_name("name", "👩\u{200D}💻", 100), Ok("👩\u{200D}💻"));
        assert_eq!(
            check_name("name", "می\u{200C}خواهم", 100),
            Ok("می\u{200C}خواهم")
        );
        assert_eq!(check_name("name", "\u{200D}ci\u{200C}", 100), Ok("ci"));
        for blank in [
            "",
            "   ",
            "\u{3164}",
            "\u{2800}\u{A0}",
            "\u{200D}\u{200C}",
            "\u{FE0F}",
            "\u{AD}\u{115F}",
        ] {
            let refused = check_name("name", blank, 100).unwrap_err();
            assert_eq!(refused, "name must have a visible character", "{blank:?}");
        }
        assert!(check_name("name", "abcd", 3).is_err());
    }

    #[test]
    fn hidden_characters_anywhere_in_a_name_are_refused() {
        for hidden in [
            "\u{200B}", "\u{2060}", "\u{FEFF}", "\u{202E}", "\u{2066}", "\u{200E}", "\u{200F}",
            "\u{61C}", "\u{2028}", "\u{2029}", "\u{7}", "\u{1B}", "\0", "\u{9B}", "\u{206A}",
            "\u{FFF9}", "\n",
        ] {
            let inside = format!("a{hidden}b");
            assert!(check_name("title", &inside, 200).is_err(), "{inside:?}");
            // Whitespace at the ends is trimmed instead (below).
            if !hidden.starts_with(char::is_whitespace) {
                for name in [format!("{hidden}ab"), hidden.to_string()] {
                    assert!(check_name("title", &name, 200).is_err(), "{name:?}");
                }
            }
        }
        // Line breaks and tabs at the ends are whitespace: trimmed, as `str::trim` would.
        assert_eq!(check_name("title", "\u{2028}a\n", 200), Ok("a"));
    }

    #[test]
    fn labels_lose_their_hidden_characters_and_need_something_visible() {
        assert_eq!(
            label("lap\u{202E}pot\u{2066}", 100).as_deref(),
            Some("lappot")
        );
        assert_eq!(
            label(" \u{200B}work\u{2028}laptop\u{FEFF} ", 100).as_deref(),
            Some("worklaptop")
        );
        for nothing in [
            "",
            "  ",
            "\u{200B}",
            "\u{FEFF}\u{2028}\u{3164}",
            "\u{FE0F}\u{200D}",
        ] {
            assert_eq!(label(nothing, 100), None, "{nothing:?}");
        }
        // Cut on a character boundary, then trimmed again.
        assert_eq!(label(&"é".repeat(60), 100), Some("é".repeat(50)));
        assert_eq!(label("abc def", 4).as_deref(), Some("abc"));
    }

    #[test]
    fn text_keeps_line_breaks_and_joiners_but_not_other_controls() {
        assert!(check_text("body", "a\nb\r\n\tc \u{200D}\u{200C}\u{200F}", 100).is_ok());
        assert!(check_text("body", "", 100).is_ok());
        for bad in ["\0", "\u{7}", "\u{1B}[31m", "\u{7F}", "\u{85}"] {
            assert!(check_text("body", bad, 100).is_err(), "{bad:?}");
        }
        assert!(check_text("body", "xx", 1).is_err());
    }

    #[test]
    fn a_user_agent_loses_its_hidden_characters_and_keeps_the_rest() {
        let ua = "Mozilla\u{202E}xuniL\u{202C} \u{2066}x\u{2069}\0\u{200F}\t café 東京\u{200B}";
        assert_eq!(drop_hidden(ua), "MozillaxuniL x café 東京");
    }
}
