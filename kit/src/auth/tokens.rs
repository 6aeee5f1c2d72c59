//! Personal access tokens: made on purpose by a signed-in user, for scripts and CI, with a name,
//! the scopes they need and an expiry of their own. They are rows of the one session table
//! (kind `token`), so they are listed and revoked like any session; what only they have is here.
//!
//! Minting one widens access, so it takes a sign-in session (full access) in sudo mode, or the
//! password in the request itself: a [`SudoProof`], which only the sudo guards give, so these
//! services never check sudo mode themselves. No personal token can mint, regenerate or widen a
//! token.

use super::attempts::CheckOutcome;
use super::reauth;
use super::{Auth, AuthError, ClientInfo, CurrentSession, Sudo, SudoProof, TokenError, Tokens};
use crate::events::{AuthEvent, Reauth};
use crate::mail::MailKind;
use crate::scopes::ScopeSet;
use crate::store::activity::ActivityKind;
use crate::store::sessions::{Kind, NewSession, Session};
use crate::store::tokens::MAX_TOKEN_NAME;
use crate::store::users::User;
use crate::text::check_name;
use crate::token::{new_public_id, PublicId, Token};
use serde_json::json;

const DAY: i64 = 86_400;

/// What a new personal token is to be.
#[derive(Debug)]
pub struct TokenRequest {
    /// 1 to 100 characters once trimmed, none hidden (see [`crate::text`]).
    pub name: String,
    /// Scope names; at least one, each one the app serves (see [`mod@crate::scopes`]).
    pub scopes: Vec<String>,
    /// 1 to `token_max_days`; `None` for the default (30, or the maximum if shorter).
    pub expires_in_days: Option<u32>,
}

/// A request checked against the rules: what [`Tokens::create_token`] stores.
struct Checked {
    name: String,
    scopes: ScopeSet,
    days: u32,
}

impl Auth {
    fn check_token_request(&self, request: TokenRequest) -> Result<Checked, TokenError> {
        let invalid = |msg: String| Err(TokenError::Invalid(msg));
        let name = match check_name("name", &request.name, MAX_TOKEN_NAME) {
            Ok(name) => name,
            Err(msg) => return invalid(msg),
        };
        let scopes = match ScopeSet::from_names(&request.scopes) {
            Ok(scopes) if scopes.is_empty() => return invalid("scopes must not be empty".into()),
            Ok(scopes) => scopes,
            Err(unknown) => return invalid(format!("unknown scope {unknown:?}: see /api/scopes")),
        };
        let max = self.config.token_max_days;
        let days = request
            .expires_in_days
            .unwrap_or(self.config.default_token_days());
        if !(1..=max).contains(&days) {
            return invalid(format!("expires_in_days must be 1 to {max}"));
        }
        Ok(Checked {
            name: name.to_string(),
            scopes,
            days,
        })
    }

    /// In one transaction with the user locked: the sudo window a right password starts, and the
    /// token, unless the account has `max_tokens` already (`None`).
    async fn store_token(
        &self,
        current: &CurrentSession,
        checked: Checked,
        password_checked: Option<&reauth::Checked>,
        client: &ClientInfo,
    ) -> Result<(Option<reauth::Elevated>, Option<(Token, Session)>), TokenError> {
        let now = self.clock.now();
        let mut tx = self.db().begin().await?;
        // With the user locked: the user may have been disabled, or the creating session ended,
        // while this request ran (a password change from another session, a revocation). A
        // token minted now would outlive that change.
        if !User::lock(&mut tx, current.user_id()).await?
            || !Session::still_exists(&mut tx, current.id()).await?
        {
            if password_checked.is_some() {
                // The password it carried was checked, and the request refused all the same.
                self.count_check(CheckOutcome::Failed);
            }
            return Err(TokenError::Refused(AuthError::InvalidToken));
        }
        // The password was right whatever follows: that re-authentication stands.
        let elevated = match password_checked {
            Some(password) => Some(
                self.elevate(&mut tx, current, password, Reauth::Password)
                    .await?,
            ),
            None => None,
        };
        let live = Session::count_live_tokens(&mut tx, current.user_id(), now).await?;
        let created = if live >= i64::from(self.config.max_tokens) {
            None
        } else {
            let new = NewSession {
                user_id: current.user_id(),
                kind: Kind::Token,
                name: Some(checked.name),
                user_agent: client.user_agent.clone(),
                ip: client.ip.clone(),
                expires_at: Some(now + i64::from(checked.days) * DAY),
                scopes: Some(checked.scopes),
                token_days: Some(i64::from(checked.days)),
                sudo_until: None,
                mfa: false,
            };
            let (token, hash) = Token::generate(&self.config.token_prefix);
            let session = Session::insert(&mut tx, &new, &new_public_id(), &hash, now).await?;
            let detail = json!({
                "name": session.name,
                "scopes": session.access().names(),
                "expires_at": session.expires_at.map(crate::clock::rfc3339),
            });
            let kind = ActivityKind::TokenCreated;
            let entry = client.activity(session.user_id, kind, &session.id, detail);
            self.record(&mut tx, entry).await?;
            let context = json!({"token_name": session.name});
            let kind = MailKind::TokenCreated;
            self.notify_user(&mut tx, session.user_id, kind, context)
                .await?;
            Some((token, session))
        };
        tx.commit().await?;
        self.mail_committed();
        Ok((elevated, created))
    }
}

impl Tokens<'_> {
    /// Creates a personal token for the session's user. When the proof carries a password, it is
    /// checked once the request passes the rules (counting against the login throttle) and puts
    /// the session in sudo mode, in the transaction that stores the token.
    pub async fn create_token(
        &self,
        proof: SudoProof<'_>,
        request: TokenRequest,
        client: &ClientInfo,
    ) -> Result<(Token, Session), TokenError> {
        let SudoProof {
            session: current,
            password,
        } = proof;
        let checked = self.0.check_token_request(request)?;
        let password_checked = match password {
            Some(password) => Some(
                self.0
                    .check_password(current, password, client)
                    .await
                    .map_err(TokenError::Password)?,
            ),
            None => None,
        };

        let stored = self
            .0
            .store_token(current, checked, password_checked.as_ref(), client);
        let (elevated, created) = self
            .0
            .after_check(password_checked.as_ref(), stored)
            .await?;
        if let Some(elevated) = elevated {
            self.0.sudo_granted(current, elevated);
        }
        let (token, session) = created.ok_or(TokenError::TooMany)?;
        self.0.events.emit(AuthEvent::TokenCreated {
            user_id: session.user_id,
            session_id: session.id.clone(),
            name: session.name.clone().unwrap_or_default(),
            scopes: session.access().names(),
            expires_at: session.expires_at,
        });
        Ok((token, session))
    }

    /// Gives one of the user's live personal tokens a new secret (same id, name and scopes; the
    /// expiry restarts with the same length). The old secret is refused at once, on every
    /// instance. `None` when the user has no live token with that id. Needs sudo mode.
    pub async fn regenerate_token(
        &self,
        current: &Sudo<'_>,
        id: &PublicId,
        client: &ClientInfo,
    ) -> Result<Option<(Token, Session)>, TokenError> {
        let id = id.as_str();
        let (token, hash) = Token::generate(&self.0.config.token_prefix);
        let now = self.0.clock.now();
        let mut tx = self.0.db().begin().await?;
        // A write first, so that SQLite takes its write lock before the transaction reads (a
        // read lock cannot be upgraded while another regeneration writes: 503); and the
        // regenerating session must still exist once the user is locked.
        if !User::lock(&mut tx, current.user_id()).await?
            || !Session::still_exists(&mut tx, current.id()).await?
        {
            return Err(TokenError::Refused(AuthError::InvalidToken));
        }
        let Some((old, session)) =
            Session::regenerate_token(&mut tx, current.user_id(), id, &hash, now).await?
        else {
            return Ok(None);
        };
        let kind = ActivityKind::TokenRegenerated;
        let entry = client.activity(
            session.user_id,
            kind,
            &session.id,
            json!({"name": session.name}),
        );
        self.0.record(&mut tx, entry).await?;
        self.0.commit_revocation(tx, &[old]).await?;
        self.0.events.emit(AuthEvent::TokenRegenerated {
            user_id: session.user_id,
            session_id: session.id.clone(),
        });
        Ok(Some((token, session)))
    }
}
