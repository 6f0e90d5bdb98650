//! The answers of the admin web page (HTML) for the `responses(…)` of its `#[utoipa::path]`s: a page, a redirect,
//! and the error pages of its forms. Every answer carries `Cache-Control: no-store`.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(string()))
        .description(Some(description))
        .build()
}

/// A page (`text/html`) with `description`.
fn html(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .header("Cache-Control", header("Always `no-store`."))
        .content(
            "text/html; charset=utf-8",
            ContentBuilder::new().schema(Some(string())).build(),
        )
        .build()
        .into()
}

/// A redirect (303) with `description`.
fn see_other(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .header("Location", header("Where to go next."))
        .header("Cache-Control", header("Always `no-store`."))
        .build()
        .into()
}

fn map(answers: Vec<(&str, RefOr<Response>)>) -> BTreeMap<String, RefOr<Response>> {
    answers.into_iter().map(|(s, r)| (s.to_string(), r)).collect()
}

/// What a page that needs a session answers: the page, or a redirect to the login form without a session.
#[derive(Debug)]
pub(crate) struct PageView;

impl utoipa::IntoResponses for PageView {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        map(vec![
            ("200", html("The page.")),
            (
                "303",
                see_other("No valid admin session: to the login form (`/admin/`)."),
            ),
            (
                "400",
                html("A query value that the page refuses; the page says which."),
            ),
            ("404", html("No such object.")),
            (
                "408",
                html("The request took longer than `server.request_timeout_secs`."),
            ),
            (
                "500",
                html("Internal error (a generic page; details go to the log)."),
            ),
            ("503", html("The database is unavailable.")),
        ])
    }
}

/// What a form of the signed-in page answers: a redirect when done, or a page that says what was refused.
#[derive(Debug)]
pub(crate) struct PageAction;

impl utoipa::IntoResponses for PageAction {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        map(vec![
            (
                "200",
                html("Done, with something to show once (a token, a one-time password, a certificate)."),
            ),
            (
                "303",
                see_other(
                    "Done: back to the dashboard (or the set's page); or no valid session: to the login form.",
                ),
            ),
            (
                "400",
                html(
                    "A value the relay refuses (a malformed office number, an unknown service type, an empty name, a login ID of the wrong shape); the page says which, in Japanese and English.",
                ),
            ),
            ("403", html("The CSRF token is missing or wrong.")),
            (
                "404",
                html("No such office, token, user, certificate or delivery."),
            ),
            (
                "408",
                html("The request took longer than `server.request_timeout_secs`."),
            ),
            ("409", html("It exists already (an office number, a login ID).")),
            ("413", html("The form is larger than `server.max_body_bytes`.")),
            (
                "500",
                html("Internal error (a generic page; details go to the log)."),
            ),
            ("503", html("The database is unavailable.")),
        ])
    }
}

/// What the login form answers.
#[derive(Debug)]
pub(crate) struct PageLogin;

impl utoipa::IntoResponses for PageLogin {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        map(vec![
            (
                "303",
                see_other("Signed in (or out): to `/admin/`, with the session cookie set (or cleared)."),
            ),
            (
                "401",
                html("Not an admin token: the login form again, with an error."),
            ),
            (
                "403",
                html("The form's CSRF token is missing or does not match its cookie."),
            ),
            (
                "408",
                html("The request took longer than `server.request_timeout_secs`."),
            ),
            ("413", html("The form is larger than `server.max_body_bytes`.")),
            (
                "429",
                html(
                    "This source address is locked out after too many failed authentications (with `Retry-After`).",
                ),
            ),
            (
                "500",
                html("Internal error (a generic page; details go to the log)."),
            ),
            ("503", html("The database is unavailable.")),
        ])
    }
}
