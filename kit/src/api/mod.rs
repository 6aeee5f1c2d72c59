//! The JSON API, mounted at /api, with JSON catchers so that no /api request is ever answered by
//! an HTML error page.
//!
//! Each feature module declares its routes once, with [`api_routes!`]: that one list is both what
//! Rocket mounts and what the OpenAPI document describes. A feature is its `mod` line below and
//! its entry in [`KIT_FEATURES`]; an app adds its own with [`crate::Kit::api`].

/// Declares a feature module's routes, once: `api_routes![list_sessions, revoke_session];` gives
/// the module `routes()`, which Rocket mounts at /api, `openapi()`, its part of the OpenAPI
/// document, read from each handler's `#[utoipa::path(...)]` (a handler without one does not
/// compile: "cannot find `__path_<name>`") with the security its guards require (see
/// [`openapi::derive_security`]), and `FEATURE`, the two together, for [`crate::Kit::api`].
///
/// It expands in the handlers' module, where Rocket's route attribute leaves each handler's
/// route info (`into_info()`, private to that module) within reach.
#[macro_export]
macro_rules! api_routes {
    ($($route:ident),+ $(,)?) => {
        /// This module's routes, mounted at /api.
        pub fn routes() -> Vec<rocket::Route> {
            rocket::routes![$($route),+]
        }

        /// This module's operations in the OpenAPI document, each with the security its
        /// guards require.
        pub fn openapi() -> utoipa::openapi::OpenApi {
            #[derive(utoipa::OpenApi)]
            #[openapi(paths($($route),+))]
            struct Paths;
            let mut doc = <Paths as utoipa::OpenApi>::openapi();
            let routes = vec![$({
                let handler = $route {};
                handler.into_info()
            }),+];
            $crate::api::openapi::derive_security(&mut doc, routes);
            doc
        }

        /// This module as a feature of the API: its routes and its part of the document.
        pub const FEATURE: $crate::api::Feature = $crate::api::Feature { routes, openapi };
    };
}

/// Sign up, log in and out, change the password, the current user.
mod account;
/// The account's security activity log.
mod activity;
/// The account's email address.
mod email;
/// Health, readiness and the OpenAPI document.
mod operations;
/// Verifying an address and resetting a password with a link from a mail.
mod recovery;
/// The user's sessions: list and revoke.
mod sessions;
/// Personal access tokens and the scopes they may hold.
mod tokens;
/// Two-factor authentication: set up, confirm, recovery codes, turn off.
mod two_factor;

/// The API's features, one line each: mounted at /api and described in the OpenAPI document in
/// this order.
const KIT_FEATURES: &[Feature] = &[
    account::FEATURE,
    two_factor::FEATURE,
    email::FEATURE,
    recovery::FEATURE,
    sessions::FEATURE,
    activity::FEATURE,
    tokens::FEATURE,
    operations::FEATURE,
];

mod json;
mod methods;
pub mod openapi;
mod query;
pub mod schemas;

pub use json::{JsonBody, OptionalJsonBody};

use crate::config::AuthConfig;
use crate::problem::Problem;
use crate::store::sessions::{Session, SessionView};
use crate::token::{PublicId, Token};
use crate::web::Hardened;
use methods::MethodNotAllowed;
use rocket::fairing::AdHoc;
use rocket::http::{Header, Status};
use rocket::serde::json::Json;
use rocket::{Either, Request};

/// What an API handler returns: its answer, or a problem+json error.
pub type ApiResult<T> = Result<T, Problem>;

/// One feature module of the API, as [`api_routes!`] declares it.
#[derive(Clone, Copy)]
pub struct Feature {
    pub routes: fn() -> Vec<rocket::Route>,
    pub openapi: fn() -> utoipa::openapi::OpenApi,
}

/// Every feature of this server's API: the kit's, then the app's (managed state).
pub struct Features(Vec<Feature>);

/// The OpenAPI document of every /api route.
pub fn document(features: &Features) -> utoipa::openapi::OpenApi {
    openapi::document(&features.0)
}

/// The document as this server serves it: with the bounds that are settings (the longest
/// token expiry) as configured.
pub fn configured_document(features: &Features, config: &AuthConfig) -> serde_json::Value {
    let mut doc = serde_json::to_value(document(features)).unwrap_or_default();
    tokens::configured(&mut doc, config);
    doc
}

/// A new token and its session entry: the token is shown this once and never stored.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    #[schema(example = "mt_pPrXM-Q1XxH3PwOIkBNpX4jISSpuJVcNCc5p9GAu_Og76Whuw")]
    token: String,
    session: SessionView,
}

impl IssuedToken {
    /// The answer that hands out a token: never to be stored by a cache.
    fn answer(
        config: &AuthConfig,
        token: Token,
        session: &Session,
        current: bool,
    ) -> NoStore<Json<Self>> {
        let view = session.view(current, config.idle_timeout, session.last_used_at);
        NoStore::new(Json(IssuedToken {
            token: token.expose().to_string(),
            session: view,
        }))
    }
}

/// A response that must not be stored by any cache (it carries a token).
#[derive(rocket::Responder)]
struct NoStore<R>(R, Header<'static>);

impl<R> NoStore<R> {
    fn new(inner: R) -> Self {
        NoStore(inner, Header::new("Cache-Control", "no-store"))
    }
}

/// Every /api error that no handler answered itself: a wrong method on a known path is 405
/// (see [`methods`]), a malformed id in the path 404 (it names nothing), anything else the
/// problem a guard stashed, or the generic one.
#[catch(default)]
fn problem_catcher(
    status: Status,
    req: &Request<'_>,
) -> Hardened<Either<MethodNotAllowed, Problem>> {
    Hardened(match methods::method_not_allowed(status, req) {
        Some(answer) => Either::Left(answer),
        None if status == Status::UnprocessableEntity && PublicId::malformed_in(req) => {
            Either::Right(Problem::not_found().detail("no such id"))
        }
        None => Either::Right(Problem::for_catcher(status, req)),
    })
}

/// Mounts every feature's routes at /api (the kit's, then the app's `features`), and the JSON
/// catchers.
pub fn stage(features: Vec<Feature>) -> AdHoc {
    AdHoc::on_ignite("JSON API", |rocket| async {
        let all: Vec<Feature> = KIT_FEATURES.iter().copied().chain(features).collect();
        all.iter()
            .fold(rocket, |rocket, feature| {
                rocket.mount("/api", (feature.routes)())
            })
            .register("/api", catchers![problem_catcher])
            .manage(Features(all))
    })
}
