//! Two-factor authentication: set up an authenticator, confirm it with a code (which turns
//! two-factor on and answers the recovery codes), replace the recovery codes, turn it off. Each
//! needs a sign-in session in sudo mode: a personal token never can.

use super::openapi::ProblemDoc;
use super::{ApiResult, JsonBody, NoStore};
use crate::auth::{ClientInfo, Sudo, TotpSetup, TwoFactor};
use crate::two_factor::RecoveryCode;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_routes![begin_totp, confirm_totp, replace_recovery_codes, disable];

/// A new authenticator secret, pending until confirmed. Shown this once.
#[derive(Serialize, ToSchema)]
struct TotpSetupView {
    /// The secret in base32, to type into an authenticator app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    secret: String,
    /// The same as an `otpauth://` URL (what the QR code on the account page holds).
    #[schema(
        example = "otpauth://totp/multitoken:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=multitoken&algorithm=SHA1&digits=6&period=30"
    )]
    otpauth_url: String,
}

/// A current code of the authenticator being set up.
#[derive(Deserialize, ToSchema)]
struct ConfirmRequest {
    #[schema(example = "123456")]
    code: String,
}

/// Single-use recovery codes, each good for one sign-in without the authenticator. Shown this
/// once; only their hashes are kept.
#[derive(Serialize, ToSchema)]
struct RecoveryCodesView {
    #[schema(example = json!(["abcd-efgh-jkmn-pqrs"]))]
    recovery_codes: Vec<String>,
}

impl RecoveryCodesView {
    /// The answer that shows the codes: never to be stored by a cache.
    fn answer(codes: Vec<RecoveryCode>) -> NoStore<Json<RecoveryCodesView>> {
        let recovery_codes = codes.iter().map(|c| c.expose().to_string()).collect();
        NoStore::new(Json(RecoveryCodesView { recovery_codes }))
    }
}

/// Begin setting up an authenticator: a new secret, pending (two-factor stays off) until
/// confirmed with a code. Beginning again replaces a pending secret. Needs sudo mode.
#[utoipa::path(
    tag = "two-factor",
    responses(
        (status = 200, description = "The secret, shown this once", body = TotpSetupView),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor is already on (two_factor_enabled)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/auth/2fa/totp")]
async fn begin_totp(
    two_factor: TwoFactor<'_>,
    session: Sudo<'_>,
) -> ApiResult<NoStore<Json<TotpSetupView>>> {
    let TotpSetup {
        secret,
        otpauth_url,
    } = two_factor.begin_totp(&session).await?;
    let view = TotpSetupView {
        secret,
        otpauth_url,
    };
    Ok(NoStore::new(Json(view)))
}

/// Confirm the authenticator with a current code: two-factor is on from now, every sign-in asks
/// for a code, and the answer holds 10 recovery codes, shown this once. Needs sudo mode.
#[utoipa::path(
    tag = "two-factor",
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Two-factor is on; the recovery codes", body = RecoveryCodesView),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Already on (two_factor_enabled), or no set-up begun (two_factor_disabled)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A wrong code (invalid_code), or a malformed body", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/auth/2fa/totp/confirm", data = "<body>")]
async fn confirm_totp(
    two_factor: TwoFactor<'_>,
    session: Sudo<'_>,
    client: ClientInfo,
    body: JsonBody<ConfirmRequest>,
) -> ApiResult<NoStore<Json<RecoveryCodesView>>> {
    let codes = two_factor
        .confirm_totp(&session, &body.0.code, &client)
        .await?;
    Ok(RecoveryCodesView::answer(codes))
}

/// Replace the recovery codes: the old ones stop working; the answer holds 10 new ones, shown
/// this once. Needs sudo mode.
#[utoipa::path(
    tag = "two-factor",
    responses(
        (status = 200, description = "The new recovery codes", body = RecoveryCodesView),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor is off (two_factor_disabled)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/auth/2fa/recovery-codes")]
async fn replace_recovery_codes(
    two_factor: TwoFactor<'_>,
    session: Sudo<'_>,
) -> ApiResult<NoStore<Json<RecoveryCodesView>>> {
    let codes = two_factor.replace_recovery_codes(&session).await?;
    Ok(RecoveryCodesView::answer(codes))
}

/// Turn two-factor off: the authenticator and the recovery codes are forgotten, and sign-ins
/// ask for the password alone. Needs sudo mode.
#[utoipa::path(
    tag = "two-factor",
    responses(
        (status = 204, description = "Two-factor is off"),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor was not on (two_factor_disabled)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[delete("/auth/2fa")]
async fn disable(
    two_factor: TwoFactor<'_>,
    session: Sudo<'_>,
    client: ClientInfo,
) -> ApiResult<Status> {
    two_factor.disable_two_factor(&session, &client).await?;
    Ok(Status::NoContent)
}
