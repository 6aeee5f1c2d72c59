//! The HTML half of the app: sign in with a browser, see every session of the account
//! per device, revoke any of them; make personal tokens, confirm the password (sudo), change it;
//! see and change the email address, verify it, reset a forgotten password with a mailed link.
//! Server-rendered templates, no JavaScript.
//!
//! A browser sign-in is a session row like any API sign-in (kind "browser"); its token lives in an
//! HttpOnly cookie that only these pages accept (the API reads the Authorization header alone).
//! Every form that changes state carries a CSRF token (see [`csrf`]).

mod account;
mod activity;
mod address;
mod cookie;
mod csrf;
mod devices;
mod flash;
mod headers;
mod page;
mod recovery;
mod second_step;
mod sudo;
mod tokens;
mod two_factor;
mod view;

pub use cookie::CookieSession;
pub use csrf::{CheckedForm, CsrfChecked, SignedOutForm};
pub use headers::{Hardened, SecurityHeaders};

use crate::token::PublicId;
use rocket::fairing::AdHoc;
use rocket::figment::value::magic::RelativePathBuf;
use rocket::fs::FileServer;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::Request;
use rocket_dyn_templates::Template;

/// A 401 on a page: back to the sign-in form, then to where the user was going. A cookie that
/// did not authenticate (forged, expired, revoked) is removed on the way.
#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Hardened<Redirect> {
    let secure = cookie::is_secure(req);
    if req.cookies().get(cookie::session().get(secure)).is_some() {
        req.cookies().remove(cookie::session().removal(secure));
    }
    // Only a page can be gone back to; after a refused POST the device list is the place to be.
    let next = (req.method() == rocket::http::Method::Get)
        .then(|| req.uri().to_string())
        .filter(|path| page::is_local_path(path) && path != "/sessions");
    Hardened(Redirect::to(account::login_uri(next.as_deref())))
}

/// Every other error on a page is an HTML page (the API registers its own JSON catchers). A
/// malformed id in the path names nothing: 404, not Rocket's 422 for a parameter it could not
/// parse.
#[catch(default)]
fn error_page(status: Status, req: &Request<'_>) -> Hardened<page::Page> {
    let status = match status == Status::UnprocessableEntity && PublicId::malformed_in(req) {
        true => Status::NotFound,
        false => status,
    };
    Hardened(page::Page::error(status, None))
}

/// Where the stylesheet and icons are served from: `static_dir` in Rocket.toml, or `static/`.
fn static_dir(rocket: &rocket::Rocket<rocket::Build>) -> std::path::PathBuf {
    rocket
        .figment()
        .extract_inner::<RelativePathBuf>("static_dir")
        .map(|dir| dir.relative())
        .unwrap_or_else(|_| "static".into())
}

/// Mounts the pages at `/`, the static files at `/static`, the templates and the HTML catchers.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("HTML pages", |rocket| async {
        // `Missing`: a missing folder is logged, not a panic (the pages still work unstyled).
        let options = rocket::fs::Options::Missing | rocket::fs::Options::default();
        let files = FileServer::new(static_dir(&rocket), options);
        // Every template may name the app: `{{ app_name }}`.
        let templates = Template::custom(|engines| {
            engines
                .minijinja
                .add_global("app_name", crate::site::get().name);
        });
        rocket
            .attach(templates)
            .mount("/", account::routes())
            .mount("/", devices::routes())
            .mount("/", tokens::routes())
            .mount("/", sudo::routes())
            .mount("/", activity::routes())
            .mount("/", address::routes())
            .mount("/", recovery::routes())
            .mount("/", second_step::routes())
            .mount("/", two_factor::routes())
            .mount("/static", files)
            .register("/", catchers![unauthorized, error_page])
    })
}
