//! The `[auth]` table of Rocket.toml, read from Rocket's figment so that every test and
//! every deployment can change it without a global static.

use rocket::figment::{Figment, Profile};
use serde::Deserialize;

/// Settings of the auth machinery. Every key has a default, so an empty `[auth]` table is valid.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Seconds from login until a session ends, whatever its use (0 = never).
    pub session_lifetime: u64,
    /// Seconds without use after which a session ends (0 = never).
    pub idle_timeout: u64,
    /// At most one `last_used_at` write per session per this many seconds.
    pub touch_interval: u64,
    /// Live sessions per user; a login past it revokes the least recently used one.
    pub max_sessions: u32,
    /// bcrypt cost for new password hashes.
    pub bcrypt_cost: u32,
    /// Password hashing threads (0 = one per core).
    pub hash_threads: usize,
    /// Their `nice` value, 0 (the same priority as requests) to 19 (only what requests leave).
    pub hash_nice: i32,
    /// Password checks that may wait for a hashing thread; one more is refused as busy (503).
    pub hash_queue: usize,
    /// Seconds a password check may take, its wait for a thread included; past it, busy (503).
    pub hash_wait: u64,
    /// Whether `POST /api/users` and `/signup` are open.
    pub signup: bool,
    /// Failed logins for one username within the window before 429.
    pub login_max_failures: u32,
    /// Failed logins from one client (an IPv4 address, or an IPv6 /64) within the window before
    /// 429.
    pub login_max_failures_per_ip: u32,
    /// Sign-ups from one client (an IPv4 address, or an IPv6 /64) per hour before 429 (0 = no
    /// bound).
    pub signup_max_per_ip: u32,
    /// Seconds that a failed login counts against its username and IP.
    pub login_failure_window: u64,
    /// Sessions kept in the in-process validation cache (0 = no cache).
    pub cache_capacity: u64,
    /// Whether the site is served over HTTPS: the cookies' `Secure` flag and `__Host-` prefix;
    /// unset means "on in the release profile only".
    pub secure_cookie: Option<bool>,
    /// Seconds between two runs of the expired-session sweep (0 = no sweep).
    pub sweep_interval: u64,
    /// The fixed start of every token, for secret scanners (1 to 16 letters, digits or `_`).
    pub token_prefix: String,
    /// Live personal tokens per user; one more is refused (0 turns personal tokens off).
    pub max_tokens: u32,
    /// The longest expiry, in days, that a personal token may ask for.
    pub token_max_days: u32,
    /// Seconds a session stays in sudo mode after a password check (at least 1).
    pub sudo_window: u64,
    /// Seconds an ended session is kept with its reason (0 = deleted at once).
    pub history_retention: u64,
    /// Seconds a security activity entry is kept (at least 1).
    pub activity_retention: u64,
    /// Whether sign-up needs an email address.
    pub signup_email: SignupEmail,
    /// Seconds an email verification link stays valid (at least 1).
    pub verify_lifetime: u64,
    /// Seconds a password reset link stays valid (at least 1).
    pub reset_lifetime: u64,
    /// Mails that carry a link (verification and reset) to one address per hour (at least 1);
    /// reset requests from one client IP, for any login: ten times this.
    pub mail_max_per_hour: u32,
    /// Seconds a half-done sign-in (password right, second factor to come) is held.
    pub mfa_pending_lifetime: u64,
    /// The key that seals two-factor secrets at rest: 32 bytes in base64. Unset: derived from
    /// Rocket's `secret_key`, else (outside the release profile) kept in `data/totp.key`.
    pub totp_key: Option<crate::two_factor::TotpKeyText>,
}

/// Whether sign-up needs an email address: `signup_email = "optional"` (the default) or
/// `"required"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupEmail {
    #[default]
    Optional,
    Required,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_lifetime: 30 * 24 * 3600,
            idle_timeout: 14 * 24 * 3600,
            touch_interval: 60,
            max_sessions: 100,
            bcrypt_cost: 12,
            hash_threads: 0,
            hash_nice: 0,
            hash_queue: 256,
            hash_wait: 30,
            signup: true,
            login_max_failures: 10,
            login_max_failures_per_ip: 100,
            login_failure_window: 900,
            signup_max_per_ip: 100,
            cache_capacity: 100_000,
            secure_cookie: None,
            sweep_interval: 300,
            token_prefix: crate::site::get().token_prefix.to_string(),
            max_tokens: 50,
            token_max_days: 365,
            sudo_window: 900,
            history_retention: 30 * 24 * 3600,
            activity_retention: 90 * 24 * 3600,
            signup_email: SignupEmail::Optional,
            verify_lifetime: 24 * 3600,
            reset_lifetime: 3600,
            mail_max_per_hour: 5,
            mfa_pending_lifetime: 300,
            totp_key: None,
        }
    }
}

impl AuthConfig {
    /// Reads `auth` from the figment and checks that the values make sense together.
    pub fn from_figment(figment: &Figment) -> Result<Self, String> {
        let mut config: AuthConfig = figment
            .focus("auth")
            .extract()
            .map_err(|e| format!("invalid [auth] configuration: {e}"))?;
        if config.secure_cookie.is_none() {
            config.secure_cookie = Some(figment.profile() == Profile::const_new("release"));
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let fail = |msg: &str| Err(format!("invalid [auth] configuration: {msg}"));
        if !(4..=31).contains(&self.bcrypt_cost) {
            return fail("bcrypt_cost must be between 4 and 31");
        }
        if !(0..=19).contains(&self.hash_nice) {
            return fail("hash_nice must be between 0 and 19");
        }
        if self.hash_threads > 1024 {
            return fail("hash_threads must be between 0 (one per core) and 1024");
        }
        if !(1..=65536).contains(&self.hash_queue) {
            return fail("hash_queue must be between 1 and 65536");
        }
        if !(1..=3600).contains(&self.hash_wait) {
            return fail("hash_wait must be between 1 and 3600 seconds");
        }
        if let Some(msg) = crate::token::check_prefix(&self.token_prefix) {
            return fail(msg);
        }
        if self.max_sessions == 0 {
            return fail("max_sessions must be at least 1");
        }
        if self.login_max_failures == 0 || self.login_max_failures_per_ip == 0 {
            return fail("login_max_failures and login_max_failures_per_ip must be at least 1");
        }
        if self.login_failure_window == 0 {
            return fail("login_failure_window must be at least 1 second");
        }
        if self.idle_timeout != 0 && self.touch_interval >= self.idle_timeout {
            return fail("touch_interval must be shorter than idle_timeout");
        }
        if self.sudo_window == 0 {
            // The /sudo page elevates, then sends the user on to a form that must still be open.
            return fail("sudo_window must be at least 1 second");
        }
        if self.activity_retention == 0 {
            // New-device detection looks back this far: without it, every sign-in is new.
            return fail("activity_retention must be at least 1 second");
        }
        if self.verify_lifetime == 0 || self.reset_lifetime == 0 {
            return fail("verify_lifetime and reset_lifetime must be at least 1 second");
        }
        if self.mfa_pending_lifetime == 0 {
            return fail("mfa_pending_lifetime must be at least 1 second");
        }
        if self.mail_max_per_hour == 0 {
            return fail("mail_max_per_hour must be at least 1");
        }
        if !(1..=3650).contains(&self.token_max_days) {
            return fail("token_max_days must be between 1 and 3650");
        }
        // Keeps every timestamp sum far from i64 overflow.
        let ten_years = 10 * 365 * 24 * 3600;
        if [
            self.session_lifetime,
            self.idle_timeout,
            self.touch_interval,
            self.login_failure_window,
            self.sudo_window,
            self.history_retention,
            self.activity_retention,
            self.verify_lifetime,
            self.reset_lifetime,
            self.mfa_pending_lifetime,
        ]
        .iter()
        .any(|&s| s > ten_years)
        {
            return fail("durations must be at most ten years");
        }
        Ok(())
    }

    /// The default expiry of a personal token: 30 days, or the longest allowed if shorter.
    pub fn default_token_days(&self) -> u32 {
        self.token_max_days.min(30)
    }

    /// The cookie `Secure` flag, resolved against the profile.
    pub fn secure_cookie(&self) -> bool {
        self.secure_cookie.unwrap_or(false)
    }
}
