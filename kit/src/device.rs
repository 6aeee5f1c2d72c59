//! Readable device labels ("Firefox on Linux", "Safari on iPhone", "curl") from user agents.

/// Longest user agent kept; longer ones are cut (on a character boundary) before storing.
pub const MAX_USER_AGENT: usize = 512;

/// Truncates a user agent for storage.
pub fn truncate_user_agent(ua: &str) -> String {
    truncate(ua.trim(), MAX_USER_AGENT)
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The label shown for a session created with this user agent.
pub fn label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown device".to_string();
    };
    let parsed = woothee::parser::Parser::new().parse(ua);
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match parsed {
        Some(r) if known(r.name) && known(r.os) && r.category != "crawler" => {
            format!("{} on {}", r.name, os_name(r.os))
        }
        // Libraries and tools ("HTTP Library" to woothee) read better by their own product name.
        Some(r) if known(r.name) && r.category != "misc" => r.name.to_string(),
        _ => product_name(ua),
    }
}

/// The kind of device, for the icon on the device page: "desktop", "phone", "bot" or "other".
pub fn kind(user_agent: Option<&str>) -> &'static str {
    let parsed = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua));
    match parsed.map(|r| r.category) {
        Some("pc") => "desktop",
        Some("smartphone") | Some("mobilephone") => "phone",
        Some("crawler") => "bot",
        _ => "other",
    }
}

fn os_name(os: &str) -> &str {
    match os {
        "Mac OSX" => "macOS",
        other => other,
    }
}

/// "curl/8.5.0" → "curl"; anything unreadable → "Unknown device".
fn product_name(ua: &str) -> String {
    let product = ua.split(['/', ' ', '(']).next().unwrap_or_default();
    let clean = product
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if product.is_empty() || !clean {
        "Unknown device".to_string()
    } else {
        truncate(product, 40)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_agents_get_readable_labels() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(label(Some(firefox)), "Firefox on Linux");
        assert_eq!(label(Some(iphone)), "Safari on iPhone");
        assert_eq!(label(Some("curl/8.5.0")), "curl");
        assert_eq!(label(Some("python-requests/2.32")), "python-requests");
        assert_eq!(label(None), "Unknown device");
        assert_eq!(label(Some("<script>")), "Unknown device");
        assert_eq!(kind(Some(firefox)), "desktop");
        assert_eq!(kind(Some(iphone)), "phone");
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate_user_agent(&"a".repeat(2000)).len(), MAX_USER_AGENT);
    }
}
