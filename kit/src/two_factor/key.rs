//! The key that seals TOTP secrets at rest (XChaCha20-Poly1305), so that a database dump alone
//! yields no working code. Where it comes from, first found first:
//!
//! 1. `[auth] totp_key`: 32 bytes in base64;
//! 2. Rocket's `secret_key`, through HKDF-SHA-256 (one setting to keep secret, not two);
//! 3. outside the release profile, a key made on first start and kept in `data/totp.key`, so
//!    that `cargo run` needs no new step and a restart keeps codes working.
//!
//! A release profile with neither key refuses to start, and says which keys to set.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rocket::figment::{Figment, Profile};
use serde::Deserialize;
use sha2::Sha256;
use std::path::Path;

/// Where the debug profile keeps its generated key (relative to the working folder, beside the
/// default SQLite file).
const KEY_FILE: &str = "data/totp.key";
/// Bytes of the nonce stored before each sealed secret.
const NONCE_LEN: usize = 24;

/// `[auth] totp_key` as configured: never printed by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct TotpKeyText(String);

impl std::fmt::Debug for TotpKeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The sealing key. Never printed by `Debug`.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// The key the configuration gives (see the module's comment).
    pub fn from_config(
        totp_key: Option<&TotpKeyText>,
        figment: &Figment,
    ) -> Result<SealingKey, String> {
        if let Some(TotpKeyText(text)) = totp_key {
            return SealingKey::from_base64(text.trim())
                .ok_or_else(|| "invalid [auth] configuration: totp_key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)".to_string());
        }
        if let Ok(secret_key) = figment.extract_inner::<String>("secret_key") {
            if !secret_key.trim().is_empty() {
                return Ok(SealingKey::derived(secret_key.trim().as_bytes()));
            }
        }
        if figment.profile() == Profile::const_new("release") {
            return Err(
                "two-factor authentication needs a key to seal its secrets: set \
                        [auth] totp_key (32 bytes in base64, e.g. `openssl rand -base64 32`) \
                        or Rocket's secret_key"
                    .to_string(),
            );
        }
        SealingKey::kept_in(Path::new(KEY_FILE))
    }

    /// A key from 32 bytes in base64.
    pub fn from_base64(text: &str) -> Option<SealingKey> {
        let bytes = STANDARD.decode(text).ok()?;
        Some(SealingKey(bytes.try_into().ok()?))
    }

    /// A key derived from another secret (Rocket's `secret_key`), for this use only.
    fn derived(secret: &[u8]) -> SealingKey {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret)
            .expand(b"session-kit totp secrets v1", &mut key)
            .expect("32 bytes is a valid HKDF-SHA-256 length");
        SealingKey(key)
    }

    /// The key in `path`, made there first if there is none. Two processes starting at once
    /// (tests, or two instances) agree on one key: the new key is written in full to a file of
    /// its own, then linked to `path`, which fails if another process linked its key first; that
    /// one is then read.
    fn kept_in(path: &Path) -> Result<SealingKey, String> {
        let failed = |e: std::io::Error| {
            format!(
                "cannot keep the two-factor key in {}: {e}; set [auth] totp_key instead",
                path.display()
            )
        };
        let read = |path: &Path| {
            let text = std::fs::read_to_string(path).map_err(failed)?;
            SealingKey::from_base64(text.trim())
                .ok_or_else(|| format!("{} does not hold a 32-byte base64 key", path.display()))
        };
        if path.exists() {
            return read(path);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let key = crate::token::random_bytes::<32>();
        let draft = path.with_extension(format!("new-{}", crate::token::new_public_id()));
        write_private(&draft, STANDARD.encode(key).as_bytes()).map_err(failed)?;
        let linked = std::fs::hard_link(&draft, path);
        let _ = std::fs::remove_file(&draft);
        match linked {
            Ok(()) => {
                rocket::info!(
                    "made a key for two-factor secrets in {} (keep it with the database)",
                    path.display()
                );
                Ok(SealingKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
            Err(e) => Err(failed(e)),
        }
    }

    /// `plain` sealed for the user `user_id`: a random nonce, then the ciphertext. The user id
    /// is authenticated with it, so a secret copied to another user's row opens nothing.
    pub fn seal(&self, plain: &[u8], user_id: i64) -> Vec<u8> {
        let nonce = crate::token::random_bytes::<NONCE_LEN>();
        let aad = user_id.to_be_bytes();
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any short message");
        [nonce.as_slice(), &sealed].concat()
    }

    /// What [`SealingKey::seal`] sealed for `user_id`, or `None` (another key, another user,
    /// or a tampered value).
    pub fn open(&self, sealed: &[u8], user_id: i64) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = user_id.to_be_bytes();
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// Writes a new file readable by its owner only (where the platform has such modes).
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_user() {
        let key = SealingKey::derived(b"one");
        let sealed = key.seal(b"secret", 7);
        assert_eq!(key.open(&sealed, 7).as_deref(), Some(&b"secret"[..]));
        assert_eq!(key.open(&sealed, 8), None);
        assert_eq!(SealingKey::derived(b"two").open(&sealed, 7), None);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn a_kept_key_is_the_same_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/totp.key");
        let first = SealingKey::kept_in(&path).unwrap();
        let again = SealingKey::kept_in(&path).unwrap();
        assert_eq!(first.0, again.0);
    }

    #[test]
    fn processes_starting_together_agree_on_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("data/totp.key");
            let start = std::sync::Barrier::new(16);
            let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
                let starts: Vec<_> = (0..16)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            SealingKey::kept_in(&path).unwrap().0
                        })
                    })
                    .collect();
                starts.into_iter().map(|t| t.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            let left = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
            assert_eq!(left, 1, "no draft left behind");
        }
    }

    #[test]
    fn a_release_profile_without_keys_refuses_naming_both() {
        let figment = Figment::new().select("release");
        let e = SealingKey::from_config(None, &figment).unwrap_err();
        assert!(e.contains("totp_key") && e.contains("secret_key"), "{e}");
        let figment = figment.merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="));
        assert!(SealingKey::from_config(None, &figment).is_ok());
    }
}
