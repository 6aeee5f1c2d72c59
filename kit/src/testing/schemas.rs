//! Checking values against the OpenAPI document's schemas, for tests/openapi_schemas.rs and the
//! features' own tests.

use super::Reply;
use regex::Regex;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    }
}

pub fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `value` against `schema`, as far as this document uses JSON Schema; `at` names the
/// place for the message. Stricter in one way: a field the schema does not name is an error.
pub fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = type_of(value);
    let number_ok = actual == "integer" && types.contains(&"number");
    assert!(
        types.contains(&actual) || number_ok,
        "{at}: {actual} {value}, documented {types:?}"
    );
    if let Some(values) = schema["enum"].as_array() {
        assert!(
            values.contains(value),
            "{at}: {value} is not in the documented enum {values:?}"
        );
    }
    if let (Some("date-time"), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let parsed = time::OffsetDateTime::parse(text, &Rfc3339);
        assert!(parsed.is_ok(), "{at}: {text} is not an RFC 3339 date-time");
    }
    match value {
        Value::Object(fields) => {
            let properties = schema["properties"]
                .as_object()
                .expect("documented properties");
            for name in schema["required"].as_array().into_iter().flatten() {
                assert!(
                    fields.contains_key(name.as_str().unwrap()),
                    "{at}: no {name}"
                );
            }
            for (name, field) in fields {
                let property = properties.get(name).unwrap_or_else(|| {
                    panic!(
                        "{at}.{name}: in the response, not in the document: add it to the schema"
                    )
                });
                conforms(doc, property, field, &format!("{at}.{name}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// The documented schema of an operation's answer.
pub fn answer_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let content = response["content"].as_object().expect("documented content");
    &content.values().next().expect("a media type")["schema"]
}

/// A request schema's property, with its pattern compiled.
pub fn rule(doc: &Value, schema: &str, field: &str) -> (Value, Regex) {
    let property = doc["components"]["schemas"][schema]["properties"][field].clone();
    let pattern = property["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{field} has no pattern (see src/api/schemas.rs)"));
    let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("{schema}.{field}: {e}"));
    (property, regex)
}

/// Characters to try in every position: ASCII, Latin-1, the Unicode spaces and a few beyond.
pub fn sample_chars() -> impl Iterator<Item = char> {
    (0..0x3100u32)
        .chain([0xFEFF, 0xFFFD, 0x1F600, 0x10FFFF])
        .filter_map(char::from_u32)
}

/// Whether an ASCII string keeps a documented string rule (for ASCII, characters are bytes).
pub fn keeps(property: &Value, pattern: &Regex, text: &str) -> bool {
    let len = text.len() as u64;
    pattern.is_match(text)
        && property["minLength"].as_u64().is_none_or(|min| len >= min)
        && property["maxLength"].as_u64().is_none_or(|max| len <= max)
}

/// Asserts that each reply has its status and that its body conforms to the schema documented
/// for that operation's answer: `(path as documented, method, status, reply)`.
pub fn assert_answers_conform<'a>(
    doc: &Value,
    replies: impl IntoIterator<Item = (&'a str, &'a str, u16, Reply)>,
) {
    for (path, method, status, reply) in replies {
        let at = format!("{} {path} {status}", method.to_uppercase());
        assert_eq!(reply.status.code, status, "{at}: {}", reply.text);
        conforms(
            doc,
            answer_schema(doc, path, method, status),
            &reply.json(),
            &at,
        );
    }
}
