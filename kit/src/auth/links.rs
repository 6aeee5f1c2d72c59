//! One-time links (email verification, password reset), as the flows that mail them use them:
//! issue one, consume one, void them all. Each takes the caller's connection, so that a flow
//! issues a link and queues its mail in one transaction, or consumes a link and does what it
//! grants in one.
//!
//! A link's token has the session tokens' format (the `token_prefix`, 32 bytes from the OS
//! CSPRNG, a checksum); only its SHA-256 is stored. A used, expired, superseded, tampered or
//! unknown token all give the one [`LinkError::Spent`]: a client learns nothing about which.

use super::{Auth, Recovery};
use crate::store::links::{self, LinkKind, LinkRow};
use crate::token::{Token, TokenHash};
use sqlx::AnyConnection;

/// Why a link could not be consumed.
#[derive(Debug)]
pub enum LinkError {
    /// Used, expired, superseded by a newer link, voided, tampered with, or never issued.
    Spent,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for LinkError {
    fn from(e: sqlx::Error) -> Self {
        LinkError::Db(e)
    }
}

/// A link just issued: its token, to put in the mail and nowhere else, and when it expires.
#[derive(Debug)]
pub struct IssuedLink {
    pub token: Token,
    pub expires_at: i64,
}

/// A link consumed: whose it was and the address it was mailed to.
pub type UsedLink = LinkRow;

impl Auth {
    /// Seconds a link of `kind` stays valid: `verify_lifetime` or `reset_lifetime`.
    pub fn link_lifetime(&self, kind: LinkKind) -> u64 {
        match kind {
            LinkKind::Verify => self.config.verify_lifetime,
            LinkKind::Reset => self.config.reset_lifetime,
        }
    }

    /// Issues a link of `kind` for the user, mailed to `email`; the user's older links of that
    /// kind stop working. The token is returned once, here.
    pub async fn issue_link(
        &self,
        conn: &mut AnyConnection,
        user_id: i64,
        kind: LinkKind,
        email: &str,
    ) -> sqlx::Result<IssuedLink> {
        let now = self.clock.now();
        let expires_at = now + self.link_lifetime(kind) as i64;
        let (token, hash) = Token::generate(&self.config.token_prefix);
        links::insert(conn, user_id, kind, &hash, email, now, expires_at).await?;
        Ok(IssuedLink { token, expires_at })
    }

    /// Consumes a link of `kind`: it works once, before it expires. A token whose form or
    /// checksum is wrong is refused without a query. The link is deleted even when found
    /// expired; within the caller's transaction, a rollback restores it.
    pub async fn consume_link(
        &self,
        conn: &mut AnyConnection,
        kind: LinkKind,
        token: &str,
    ) -> Result<UsedLink, LinkError> {
        let hash = self.link_hash(token)?;
        let link = links::take(conn, kind, &hash).await?;
        self.still_valid(link)
    }

    /// The hash of a link's token; a token whose form or checksum is wrong is spent.
    fn link_hash(&self, token: &str) -> Result<TokenHash, LinkError> {
        TokenHash::parse(&self.config.token_prefix, token.trim()).ok_or(LinkError::Spent)
    }

    /// A link found, unless it has expired.
    fn still_valid(&self, link: Option<LinkRow>) -> Result<UsedLink, LinkError> {
        link.filter(|link| link.expires_at > self.clock.now())
            .ok_or(LinkError::Spent)
    }

    /// Voids every outstanding link of the user (a password changed or reset); returns how
    /// many.
    pub async fn void_links(&self, conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<u64> {
        links::delete_for_user(conn, user_id).await
    }
}

impl Recovery<'_> {
    /// Whether a link of `kind` would work now, without using it: for a page that shows a link
    /// before its form consumes it, and to refuse a dead link before slow work.
    pub async fn check_link(&self, kind: LinkKind, token: &str) -> Result<UsedLink, LinkError> {
        let hash = self.0.link_hash(token)?;
        let mut conn = self.0.db().acquire().await?;
        let link = links::find(&mut conn, kind, &hash).await?;
        self.0.still_valid(link)
    }
}
