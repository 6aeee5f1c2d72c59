//! Session tokens: a prefix (`token_prefix`, by default the app's, `mt_` in the template) + 32 random bytes in base64url +
//! a CRC32 checksum.
//!
//! The checksum lets secret scanners recognise a leaked token and lets the server refuse junk
//! without a database query. Only the SHA-256 of the whole token text is ever stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;

const SECRET_BYTES: usize = 32;
const BODY_LEN: usize = 43; // 32 bytes in unpadded base64
const CHECKSUM_LEN: usize = 6; // 4 bytes in unpadded base64
/// Length of a token's text after its prefix.
pub const TOKEN_BODY_LEN: usize = BODY_LEN + CHECKSUM_LEN;

/// Why a `token_prefix` cannot be used, or `None` when it can: 1 to 16 ASCII letters, digits
/// or `_`, so that a token stays one URL-safe word that scanners can match.
pub fn check_prefix(prefix: &str) -> Option<&'static str> {
    let valid = !prefix.is_empty()
        && prefix.len() <= 16
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (!valid).then_some("token_prefix must be 1 to 16 ASCII letters, digits or '_'")
}

/// A token's secret text, shown to its owner once. `Debug` never prints it.
pub struct Token(String);

/// SHA-256 of a token's text: what the database and the cache key on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

/// A SHA-256 output is uniformly random already, so its first 8 bytes make a perfect hash key:
/// with [`Prehashed`] the validation cache skips SipHash on every request. (No hash flooding:
/// only hashes of live sessions are ever cached, and nobody can choose a SHA-256 output.)
impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// The `BuildHasher` for maps keyed by [`TokenHash`]: passes its prehashed key through.
#[derive(Clone, Copy, Default)]
pub struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = PrehashedHasher;
    fn build_hasher(&self) -> PrehashedHasher {
        PrehashedHasher(0)
    }
}

/// See [`Prehashed`].
#[derive(Default)]
pub struct PrehashedHasher(u64);

impl std::hash::Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    /// Only [`TokenHash`] keys are meant here; anything else still gets a (weak) mix.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

impl Token {
    /// A new token from the OS CSPRNG, with its hash.
    pub fn generate(prefix: &str) -> (Token, TokenHash) {
        let body = URL_SAFE_NO_PAD.encode(random_bytes::<SECRET_BYTES>());
        let checksum = checksum(&body);
        let text = format!("{prefix}{body}{checksum}");
        let hash = TokenHash::of(&text);
        (Token(text), hash)
    }

    /// The text to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl TokenHash {
    fn of(text: &str) -> TokenHash {
        TokenHash(Sha256::digest(text.as_bytes()).into())
    }

    /// Checks a presented token's prefix, form and checksum and returns its hash, or `None` for
    /// junk.
    pub fn parse(prefix: &str, text: &str) -> Option<TokenHash> {
        let rest = text.strip_prefix(prefix)?;
        if rest.len() != TOKEN_BODY_LEN || !rest.bytes().all(is_url_safe) {
            return None;
        }
        let (body, sum) = rest.split_at(BODY_LEN);
        let mut expected = [0u8; CHECKSUM_LEN];
        URL_SAFE_NO_PAD
            .encode_slice(
                crc32fast::hash(body.as_bytes()).to_be_bytes(),
                &mut expected,
            )
            .ok()?;
        (expected == sum.as_bytes()).then(|| TokenHash::of(text))
    }

    /// Lower-case hex, for NOTIFY payloads and logs of hashes (never of tokens).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The inverse of [`TokenHash::to_hex`].
    pub fn from_hex(hex: &str) -> Option<TokenHash> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(TokenHash(out))
    }

    /// From a database column.
    pub fn from_slice(bytes: &[u8]) -> Option<TokenHash> {
        bytes.try_into().ok().map(TokenHash)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

fn is_url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn checksum(body: &str) -> String {
    URL_SAFE_NO_PAD.encode(crc32fast::hash(body.as_bytes()).to_be_bytes())
}

/// A new public session id: 16 random bytes in base64url. Not guessable, and not the secret.
pub fn new_public_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// Whether `id` has the form of a public session id (so that junk never reaches a query).
pub fn is_public_id(id: &str) -> bool {
    id.len() == PUBLIC_ID_LEN && id.bytes().all(is_url_safe)
}

/// Length of a public id: 16 bytes in unpadded base64url.
const PUBLIC_ID_LEN: usize = 22;

/// A public id taken from a path (`/api/sessions/<id>`): sessions, personal tokens and an app's resources
/// use [`new_public_id`]'s form. As a route parameter, a malformed id never reaches the handler:
/// Rocket forwards it, and the catchers answer 404 (see [`PublicId::malformed_in`]). Its OpenAPI
/// schema states the pattern once: `params(("id" = inline(PublicId), Path, ...))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicId(String);

impl PublicId {
    /// The id, if `text` has the form of one.
    pub fn parse(text: &str) -> Option<PublicId> {
        is_public_id(text).then(|| PublicId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the route that last tried `req` takes a path parameter that failed to parse
    /// here, which is why it forwarded: a 422 that a catcher answers as 404, since such a path
    /// names nothing. (Every one-segment parameter of this app's routes is a public id.)
    pub fn malformed_in(req: &rocket::Request<'_>) -> bool {
        let Some(route) = req.route() else {
            return false;
        };
        let given = req.uri().path();
        let mut given = given.segments();
        route.uri.origin.path().segments().any(|wanted| {
            let segment = given.next().unwrap_or_default();
            let is_param = wanted.starts_with('<') && !wanted.ends_with("..>");
            is_param && !is_public_id(segment)
        })
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> rocket::request::FromParam<'a> for PublicId {
    type Error = &'a str;

    fn from_param(param: &'a str) -> Result<PublicId, &'a str> {
        PublicId::parse(param).ok_or(param)
    }
}

impl utoipa::PartialSchema for PublicId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let pattern = format!("^[A-Za-z0-9_-]{{{PUBLIC_ID_LEN}}}$");
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .into()
    }
}

impl utoipa::ToSchema for PublicId {}

/// Bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without an OS RNG no secret can be made safely; there is nothing sensible to fall back to.
    getrandom::getrandom(&mut bytes).expect("the OS random number generator failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "mt_";
    const TOKEN_LEN: usize = P.len() + TOKEN_BODY_LEN;

    #[test]
    fn prefixes_are_short_url_safe_words() {
        for good in ["mt_", "acme_notes_", "X1"] {
            assert!(check_prefix(good).is_none(), "{good}");
        }
        for bad in ["", "a-b", "with space", "é_", "seventeen_chars__"] {
            assert!(check_prefix(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn generated_tokens_parse_to_their_hash() {
        let (token, hash) = Token::generate(P);
        assert_eq!(token.expose().len(), P.len() + TOKEN_BODY_LEN);
        assert!(token.expose().starts_with(P));
        assert!(TokenHash::parse(P, token.expose()) == Some(hash));
        // Capitalised, so never an app's default prefix (those come from lowercase crate names).
        let (other, other_hash) = Token::generate("Other_");
        assert!(TokenHash::parse("Other_", other.expose()) == Some(other_hash));
        assert!(TokenHash::parse(P, other.expose()).is_none());
    }

    #[test]
    fn tokens_are_distinct() {
        let (a, _) = Token::generate(P);
        let (b, _) = Token::generate(P);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn junk_and_damaged_tokens_are_refused() {
        let (token, _) = Token::generate(P);
        let text = token.expose();
        let mut flipped = text.to_string().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            "",
            "mt_",
            "hello",
            &text[..TOKEN_LEN - 1],
            &format!("{text}x"),
            &flipped,
            &text.replacen("mt_", "xx_", 1),
            &format!("{}é", &text[..TOKEN_LEN - 2]),
        ] {
            assert!(TokenHash::parse(P, bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let (token, hash) = Token::generate(P);
        assert!(!format!("{token:?}").contains(token.expose()));
        assert!(!format!("{hash:?}").contains(&hash.to_hex()));
    }

    #[test]
    fn public_ids_have_a_fixed_url_safe_form() {
        assert!(is_public_id(&new_public_id()));
        assert!(!is_public_id("short"));
        assert!(!is_public_id(&"\0".repeat(22)));
        let id = new_public_id();
        assert_eq!(PublicId::parse(&id).map(|id| id.to_string()), Some(id));
        for bad in ["short", "AAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(PublicId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_public_id_schema_states_the_pattern() {
        let schema = serde_json::to_value(<PublicId as utoipa::PartialSchema>::schema()).unwrap();
        let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        assert_eq!(schema["type"], "string");
        assert!(pattern.is_match(&new_public_id()));
        assert!(!pattern.is_match("short"));
    }

    #[test]
    fn prehashed_keys_are_the_first_eight_bytes() {
        use std::hash::BuildHasher;
        let (_, hash) = Token::generate(P);
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash.0[..8]);
        assert_eq!(Prehashed.hash_one(hash), u64::from_le_bytes(first));
        let (_, other) = Token::generate(P);
        assert_ne!(Prehashed.hash_one(hash), Prehashed.hash_one(other));
    }

    #[test]
    fn hex_round_trips() {
        let (_, hash) = Token::generate(P);
        assert!(TokenHash::from_hex(&hash.to_hex()) == Some(hash));
        assert!(TokenHash::from_hex("zz").is_none());
    }
}
