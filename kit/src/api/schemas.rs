//! The input rules of the store (src/store/users.rs, src/password.rs) as JSON
//! Schema, for `#[schema(schema_with = ...)]`: a request a generator builds from the document is
//! accepted exactly when it keeps them, so fuzzed sign-ups can succeed, and a fuzzer
//! can tell a wrong rejection from a right one. tests/openapi_schemas.rs compares each pattern
//! with the Rust check it mirrors. A feature's own rules sit in its module,
//! built from the pieces here.
//!
//! JSON Schema counts characters where byte limits (the password's, say) count UTF-8 bytes: the
//! two agree on ASCII, and the descriptions say so.

use crate::address::{LOCAL_FORBIDDEN, MAX_EMAIL_LEN, MAX_LOCAL_LEN};
use crate::password::{MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES};
use crate::scopes::registered;
use crate::store::sessions::MAX_NAME;
use crate::store::tokens::MAX_TOKEN_NAME;
use crate::store::users::USERNAME_LEN;
use crate::text::{BLANK, HIDDEN, MODIFIER, TEXT_CONTROL};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

/// What `str::trim` removes (Unicode White_Space, `char::is_whitespace`), as a regex class body.
pub const WHITESPACE: &str =
    r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Any text without NUL.
pub const NO_NUL: &str = r"^[^\u0000]*$";

/// Characters as a regex class body (`\u0000-\u001F...`), from a table of [`crate::text`].
fn class(ranges: &[(char, char)]) -> String {
    let one = |c: char| format!("\\u{:04X}", u32::from(c));
    let body = ranges.iter().map(|&(first, last)| match first == last {
        true => one(first),
        false => format!("{}-{}", one(first), one(last)),
    });
    body.collect()
}

/// A name a user picks ([`crate::text::check_name`]): trimmed of blank characters (and of modifiers at
/// its start), then 1 to `max` characters, none of them hidden.
pub fn name_pattern(max: usize) -> String {
    let (blank, modifier, hidden) = (class(BLANK), class(MODIFIER), class(HIDDEN));
    let inner = max - 2;
    format!(
        "^[{blank}{modifier}]*[^{blank}{modifier}{hidden}]\
         (?:[^{hidden}]{{0,{inner}}}[^{blank}{hidden}])?[{blank}]*$"
    )
}

/// A session's name ([`crate::text::label`]): empty, or any text with a visible character.
pub fn label_pattern() -> String {
    let (blank, modifier, hidden) = (class(BLANK), class(MODIFIER), class(HIDDEN));
    format!("^$|[^{blank}{modifier}{hidden}]")
}

/// Multi-line text ([`crate::text::check_text`]): no control character but tab and line breaks.
/// For features' own fields (the example's note bodies): unused in an app without one.
#[allow(dead_code)]
pub fn text_pattern() -> String {
    format!("^[^{}]*$", class(TEXT_CONTROL))
}

/// What the description of a name says about its characters.
pub const NAME_RULE: &str = "surrounding whitespace and invisible characters are trimmed; \
     no control, bidi, zero-width or line separator characters";

/// A personal token's name: trimmed, then 1 to 100 characters, none hidden.
pub fn token_name() -> Object {
    string(&format!(
        "What the token is for, shown in the session list: 1 to {MAX_TOKEN_NAME} characters; \
         {NAME_RULE}."
    ))
    .min_length(Some(1))
    .pattern(Some(name_pattern(MAX_TOKEN_NAME)))
    .examples(["CI deploy"])
    .build()
}

/// The name given at sign-in, optional: empty, or any text with a visible character; hidden
/// characters are dropped, it is trimmed and cut to 100 bytes.
pub fn session_name() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(format!(
            "A name for the session, shown in the session list: empty, or with a visible \
             character; control, bidi, zero-width and line separator characters \
             are dropped, surrounding whitespace trimmed, and it is cut to {MAX_NAME} bytes."
        )))
        .pattern(Some(label_pattern()))
        .examples(["laptop"])
        .build()
}

/// A personal token's scopes: at least one, each a scope the app declares.
pub fn scope_names() -> Array {
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(registered().iter().map(|s| s.name)));
    ArrayBuilder::new()
        .items(name)
        .min_items(Some(1))
        .description(Some("Scope names from GET /api/scopes; at least one."))
        .examples([serde_json::json!(["profile:read"])])
        .build()
}

/// A string schema with its description.
pub fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// A new username: trimmed, then 3 to 64 ASCII letters, digits, `_`, `.` or `-`.
pub fn username() -> Object {
    let (min, max) = (USERNAME_LEN.start(), USERNAME_LEN.end());
    string(&format!(
        "{min} to {max} ASCII letters, digits, `_`, `.` or `-`, once surrounding whitespace is \
         trimmed; unique case-insensitively."
    ))
    .pattern(Some(format!(
        "^[{WHITESPACE}]*[A-Za-z0-9_.-]{{{min},{max}}}[{WHITESPACE}]*$"
    )))
    .examples(["alice"])
    .build()
}

/// A new password: 8 to 72 bytes (bcrypt's limit), no NUL, never trimmed.
pub fn new_password() -> Object {
    string(&format!(
        "{MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes of UTF-8 (bcrypt's limit: longer ones \
         are refused, never truncated), without NUL; not trimmed. The lengths below count \
         characters, which are bytes for ASCII."
    ))
    .min_length(Some(MIN_PASSWORD_BYTES))
    .max_length(Some(MAX_PASSWORD_BYTES))
    .pattern(Some(NO_NUL))
    .examples(["correct horse battery"])
    .build()
}

/// An email address: trimmed, then the check of [`crate::address`] (one `@`, a local part of 1
/// to 64 bytes, a domain of ASCII labels), at most 254 bytes; unique case-insensitively.
pub fn email() -> Object {
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    let forbidden = regex_escape(LOCAL_FORBIDDEN);
    string(&format!(
        "An email address, once surrounding whitespace is trimmed: 1 to {MAX_LOCAL_LEN} bytes \
         before the `@` (no whitespace, control characters or `{LOCAL_FORBIDDEN}`), and a domain \
         of dot-separated labels of ASCII letters, digits and `-` (an internationalized domain \
         in its `xn--` form); at most {MAX_EMAIL_LEN} bytes in all (the lengths here count \
         characters, which are bytes for ASCII). Stored with its domain lower-cased; unique \
         case-insensitively."
    ))
    .max_length(Some(MAX_EMAIL_LEN))
    .pattern(Some(format!(
        "^[{WHITESPACE}]*[^{WHITESPACE}\\u0000-\\u001F\\u007F-\\u009F{forbidden}]{{1,{MAX_LOCAL_LEN}}}\
         @(?:{label}\\.)*{label}[{WHITESPACE}]*$"
    )))
    .examples(["alice@example.org"])
    .build()
}

/// Text as the body of a regex character class: every character escaped.
fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\u{:04X}", u32::from(c)))
        .collect()
}
