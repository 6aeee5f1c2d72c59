//! Authenticator codes (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, one step of drift
//! either way, through `totp-rs`. Times are the app's clock, so tests move through steps
//! without sleeping.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
pub const STEP: i64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// Steps of clock drift accepted either way.
const DRIFT: i64 = 1;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_LEN: usize = 20;

/// A user's TOTP secret. Never printed: `Debug` shows nothing of it.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// A code as typed, without the spaces that apps show in it (`123 456`).
pub fn typed_code(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether `code` has the shape of an authenticator code (6 digits); anything else is taken
/// for a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

impl TotpSecret {
    /// A new random secret, from the OS CSPRNG.
    pub fn generate() -> TotpSecret {
        TotpSecret(crate::token::random_bytes::<SECRET_LEN>().to_vec())
    }

    /// A secret as stored (after [`super::SealingKey::open`]).
    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    /// A secret from its base32 form (what set-up answers), as an authenticator reads it.
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let bytes = totp_rs::Secret::Encoded(text.trim().to_uppercase())
            .to_bytes()
            .ok()?;
        Some(TotpSecret(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 (RFC 4648, no padding): what a user types into an authenticator.
    pub fn base32(&self) -> String {
        self.totp().get_secret_base32()
    }

    /// The `otpauth://` URL an authenticator reads from the QR code. The issuer and the account
    /// are the app's name and the username, percent-encoded.
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        let (issuer, account) = (encode(issuer), encode(account));
        format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
            self.base32()
        )
    }

    /// The code of a step (Unix time / 30).
    pub fn code_at(&self, step: i64) -> String {
        self.totp().generate((step.max(0) * STEP) as u64)
    }

    /// The step, within one step of `now`'s either way, whose code is `code`; compared in
    /// constant time.
    pub fn matching_step(&self, code: &str, now: i64) -> Option<i64> {
        let current = now.div_euclid(STEP);
        let mut found = None;
        for step in current - DRIFT..=current + DRIFT {
            if bool::from(self.code_at(step).as_bytes().ct_eq(code.as_bytes())) {
                found = Some(step);
            }
        }
        found
    }

    fn totp(&self) -> TOTP {
        // `new_unchecked`: the length rule is ours (20 bytes).
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            DRIFT as u8,
            STEP as u64,
            self.0.clone(),
        )
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(secret.code_at(59 / STEP), "287082");
        assert_eq!(secret.code_at(1_111_111_109 / STEP), "081804");
        assert_eq!(secret.code_at(20_000_000_000 / STEP), "353130");
    }

    #[test]
    fn one_step_of_drift_is_accepted_and_two_are_not() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_000;
        let step = now / STEP;
        for drift in [-1, 0, 1] {
            let code = secret.code_at(step + drift);
            assert_eq!(secret.matching_step(&code, now), Some(step + drift));
        }
        for drift in [-2, 2] {
            let code = secret.code_at(step + drift);
            assert_eq!(secret.matching_step(&code, now), None);
        }
    }

    #[test]
    fn the_url_names_the_issuer_and_account() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let url = secret.otpauth_url("my app", "alice");
        assert!(url.starts_with(
            "otpauth://totp/my%20app:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=my%20app"
        ));
        assert!(!format!("{secret:?}").contains("123"));
    }
}
