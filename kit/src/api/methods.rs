//! 405 Method Not Allowed, with `Allow`, for the API.
//!
//! Rocket 0.5 routes on method and path together, so a method that no route of an existing path
//! takes (`PATCH /api/me`) falls through to the 404 catcher, and a method Rocket does not know at
//! all (`QUERY /api/me`) to the 400 catcher. RFC 9110 asks for 405 and the methods the path does
//! take; clients, generators and fuzzers rely on it to tell "wrong method" from "no such thing".
//! The API's catcher asks [`method_not_allowed`] first: it compares the request's path with the
//! mounted routes, so it can never disagree with what is mounted.

use crate::problem::Problem;
use rocket::http::{Header, Method, Status};
use rocket::{Request, Route};

/// A 405 problem, with `Allow`.
#[derive(rocket::Responder)]
pub struct MethodNotAllowed(Problem, Header<'static>);

/// The 405 for this failed request, or `None` when the path is unknown (a real 404) or a route
/// of its method did answer (its own 404, e.g. "signup is disabled", or its own 400).
pub fn method_not_allowed(status: Status, req: &Request<'_>) -> Option<MethodNotAllowed> {
    let unknown_method = match status.code {
        404 => false,
        // Rocket answers a method it cannot parse with 400, naming the request GET and giving it
        // no route (rocket/src/server.rs, "Bad incoming HTTP request"); any other 400 comes from
        // a route that matched, so has one.
        400 if req.route().is_none() => true,
        _ => return None,
    };
    let allowed = allowed_methods(req.rocket().routes(), req);
    if allowed.is_empty() || (!unknown_method && allowed.contains(&req.method())) {
        return None;
    }
    let allow = allowed
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let problem = Problem::from_status(Status::MethodNotAllowed)
        .detail(format!("{} takes only {allow}", req.uri().path()));
    Some(MethodNotAllowed(problem, Header::new("Allow", allow)))
}

/// The methods of the routes whose path matches the request's, sorted, with HEAD wherever GET is
/// (Rocket answers HEAD with the GET route, body stripped).
fn allowed_methods<'a>(routes: impl Iterator<Item = &'a Route>, req: &Request<'_>) -> Vec<Method> {
    let path: Vec<&str> = req.uri().path().segments().collect();
    let mut methods: Vec<Method> = routes
        .filter(|route| path_matches(route, &path))
        .map(|route| route.method)
        .collect();
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    methods.sort_by_key(|m| m.as_str());
    methods.dedup();
    methods
}

/// Whether a route's path (`/api/sessions/<id>`, `/static/<path..>`) matches these request segments,
/// as Rocket's router compares them: a static segment exactly, `<x>` any one segment, `<x..>` all
/// the rest (none included). Queries and formats are ignored: no API route declares one.
fn path_matches(route: &Route, path: &[&str]) -> bool {
    let mut wanted = route.uri.origin.path().segments();
    let mut given = path.iter();
    loop {
        match (wanted.next(), given.next()) {
            (Some(seg), _) if seg.starts_with('<') && seg.ends_with("..>") => return true,
            (Some(seg), Some(&given)) if seg.starts_with('<') || seg == given => continue,
            (None, None) => return true,
            _ => return false,
        }
    }
}
