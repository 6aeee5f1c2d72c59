//! Two-factor authentication's parts: authenticator codes (TOTP, RFC 6238), recovery codes, the
//! key that seals the TOTP secret at rest, and the set-up QR code. What an account does with
//! them (set-up, the one check every way in goes through) is in `auth/two_factor.rs` and
//! `auth/second_factor.rs`; their rows are in `store/two_factor.rs`.

/// The key that seals TOTP secrets: `totp_key`, Rocket's `secret_key`, or a file under data/.
mod key;
/// The set-up QR code, as an inline SVG.
mod qr;
/// Single-use recovery codes.
mod recovery;
/// Authenticator codes.
mod totp;

pub use key::{SealingKey, TotpKeyText};
pub use qr::qr_svg;
pub use recovery::{RecoveryCode, RECOVERY_CODES};
pub use totp::{is_totp_code, typed_code, TotpSecret, STEP};
