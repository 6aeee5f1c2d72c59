use super::{json, TestApp};
use crate::two_factor::{TotpSecret, STEP};

impl TestApp {
    /// Turns two-factor on for the user of `token` (a fresh sign-in, in sudo mode) through the
    /// API; answers the secret, as the user's authenticator holds it, and the recovery codes.
    pub async fn enable_two_factor(&self, token: &str) -> (TotpSecret, Vec<String>) {
        let setup = self
            .post("/api/auth/2fa/totp", Some(token), json!({}))
            .await;
        assert_eq!(setup.status.code, 200, "{}", setup.text);
        let secret = setup.json()["secret"].as_str().map(TotpSecret::from_base32);
        let secret = secret.flatten().expect("a base32 secret");
        let code = self.code_now(&secret);
        let body = json!({ "code": code });
        let confirmed = self
            .post("/api/auth/2fa/totp/confirm", Some(token), body)
            .await;
        assert_eq!(confirmed.status.code, 200, "{}", confirmed.text);
        let codes = confirmed.json()["recovery_codes"]
            .as_array()
            .expect("recovery codes")
            .iter()
            .map(|c| c.as_str().expect("a code").to_string())
            .collect();
        (secret, codes)
    }

    /// The authenticator's code at the app's clock now.
    pub fn code_now(&self, secret: &TotpSecret) -> String {
        self.code_in(secret, 0)
    }

    /// The authenticator's code `steps` steps (of 30 s) away from the app's clock.
    pub fn code_in(&self, secret: &TotpSecret, steps: i64) -> String {
        secret.code_at(self.clock().now().div_euclid(STEP) + steps)
    }

    /// Moves the clock to the start of the next 30-second step (a new code).
    pub fn next_step(&self) {
        let now = self.clock().now();
        self.advance(STEP - now.rem_euclid(STEP));
    }
}
