//! Recovery codes: ten single-use codes, shown once when made, stored only as SHA-256 hashes.
//! Each holds 80 bits from the OS CSPRNG, so a stolen database gives none of them back.

use sha2::{Digest, Sha256};

/// How many codes a user gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Letters without look-alikes (no 0/o, 1/l/i): 32 of them, 5 bits each.
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789-";
/// Characters per code, before the dashes.
const LEN: usize = 16;

/// A recovery code as shown to its user (`abcd-efgh-jkmn-pqrs`). Never printed by `Debug`.
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

impl RecoveryCode {
    /// A new code.
    pub fn generate() -> RecoveryCode {
        let bytes = crate::token::random_bytes::<LEN>();
        let chars: Vec<char> = bytes
            .iter()
            // 31 letters and digits: the dash is only a separator.
            .map(|b| ALPHABET[usize::from(*b) % 31] as char)
            .collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        RecoveryCode(groups.join("-"))
    }

    /// `RECOVERY_CODES` new codes.
    pub fn generate_set() -> Vec<RecoveryCode> {
        (0..RECOVERY_CODES)
            .map(|_| RecoveryCode::generate())
            .collect()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash stored for a code as typed: case, spaces and dashes do not matter.
    pub fn hash_of(typed: &str) -> Vec<u8> {
        let normal: String = typed
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Sha256::digest(normal.as_bytes()).to_vec()
    }

    /// The hash to store.
    pub fn hash(&self) -> Vec<u8> {
        RecoveryCode::hash_of(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_typed_loosely() {
        let set = RecoveryCode::generate_set();
        assert_eq!(set.len(), RECOVERY_CODES);
        let code = set[0].expose();
        assert_eq!(code.len(), LEN + 3);
        let loose = code.to_uppercase().replace('-', " ");
        assert_eq!(RecoveryCode::hash_of(&loose), set[0].hash());
        assert_ne!(set[0].hash(), set[1].hash());
        assert!(!format!("{:?}", set[0]).contains(code));
    }
}
