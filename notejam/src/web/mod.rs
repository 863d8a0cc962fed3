//! The HTTP side: routes, shared state and the pieces every handler uses.

pub mod accounts;
pub mod errors;
pub mod forms;
pub mod health;
pub mod notes;
pub mod pads;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use cookie::Key;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::SecureCookies;
use crate::content::{ContentCache, UserContent};
use crate::db::Db;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::session;
use crate::telemetry;

/// What handlers share: the database, the session key, the mailer, the metrics.
pub struct App {
    pub db: Db,
    pub key: Key,
    pub secure_cookies: SecureCookies,
    pub mailer: Mailer,
    pub metrics: Arc<Metrics>,
    pub cache: Arc<ContentCache>,
}

impl App {
    /// Just the user's pads (what a note form's pad choice is checked against): from the
    /// cache, else one small query, so that writes never reload whole note lists.
    pub async fn pads(&self, user_id: i64) -> Result<Vec<crate::db::pads::Pad>, sqlx::Error> {
        match self.cache.get(user_id) {
            Some(content) => Ok(content.pads.clone()),
            None => self.db.pads_of(user_id).await,
        }
    }

    /// The user's pads and note list, from the cache or the database.
    pub async fn content(&self, user_id: i64) -> Result<Arc<UserContent>, sqlx::Error> {
        if let Some(content) = self.cache.get(user_id) {
            return Ok(content);
        }
        let ticket = self.cache.ticket(user_id);
        let (epoch, pads, notes) = tokio::try_join!(
            self.db.session_epoch(user_id),
            self.db.pads_of(user_id),
            self.db.notes_of(user_id)
        )?;
        let content = Arc::new(UserContent::new(epoch, pads, notes));
        self.cache.fill(user_id, ticket, content.clone());
        Ok(content)
    }
}

pub type AppState = Arc<App>;

const STYLESHEET: &str = include_str!("../../static/notejam.css");

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(notes::index))
        .route(
            "/signup/",
            get(accounts::signup_form).post(accounts::signup),
        )
        .route(
            "/signin/",
            get(accounts::signin_form).post(accounts::signin),
        )
        .route("/signout/", get(accounts::signout).post(accounts::signout))
        .route(
            "/forgot-password/",
            get(accounts::forgot_password_form).post(accounts::forgot_password),
        )
        .route(
            "/settings/",
            get(accounts::settings_form).post(accounts::settings),
        )
        .route(
            "/notes/create/",
            get(notes::create_form).post(notes::create),
        )
        .route("/notes/{id}/", get(notes::view))
        .route("/notes/{id}/edit/", get(notes::edit_form).post(notes::edit))
        .route(
            "/notes/{id}/delete/",
            get(notes::delete_form).post(notes::delete),
        )
        .route("/pads/create/", get(pads::create_form).post(pads::create))
        .route("/pads/{id}/", get(pads::view))
        .route("/pads/{id}/edit/", get(pads::edit_form).post(pads::edit))
        .route(
            "/pads/{id}/delete/",
            get(pads::delete_form).post(pads::delete),
        )
        .fallback(fallback)
        .layer(from_fn_with_state(state.clone(), session::middleware))
        .layer(DefaultBodyLimit::max(session::MAX_FORM_BYTES));

    // Probes and the stylesheet need no session.
    pages
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/notejam.css", get(stylesheet))
        .layer(from_fn_with_state(state.clone(), telemetry::observe))
        .layer(CatchPanicLayer::custom(|_| {
            errors::page(StatusCode::INTERNAL_SERVER_ERROR, errors::INTERNAL)
        }))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Canonical URLs end in `/`: a known page asked for without it is redirected there
/// (308, so a form POST keeps its method and body); anything else is a 404.
async fn fallback(request: Request) -> Response {
    let uri = request.uri();
    let path = uri.path();
    if !path.ends_with('/') && is_page(&format!("{path}/")) {
        let target = match uri.query() {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        return Redirect::permanent(&target).into_response();
    }
    errors::not_found()
}

fn is_page(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let is_id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match segments.as_slice() {
        [""] => true,
        ["signup" | "signin" | "signout" | "forgot-password" | "settings"] => true,
        ["notes" | "pads", "create"] => true,
        ["notes" | "pads", id] => is_id(id),
        ["notes" | "pads", id, "edit" | "delete"] => is_id(id),
        _ => false,
    }
}

/// Path ids are positive integers; anything else names no page.
pub fn parse_id(text: &str) -> Result<i64, errors::AppError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(errors::AppError::NotFound);
    }
    text.parse().map_err(|_| errors::AppError::NotFound)
}

/// The first value of a query parameter. Read by hand so that a repeated or odd
/// parameter is ignored rather than refused.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_pages_get_the_slash_redirect() {
        for page in [
            "/signin/",
            "/notes/12/",
            "/pads/3/edit/",
            "/notes/create/",
            "/settings/",
        ] {
            assert!(is_page(page), "{page}");
        }
        for other in [
            "/nope/",
            "/notes/x/",
            "/notes/1/view/",
            "/pads/",
            "/notes/-1/",
        ] {
            assert!(!is_page(other), "{other}");
        }
    }

    #[test]
    fn ids_are_digits_only() {
        assert_eq!(parse_id("42").unwrap(), 42);
        for bad in ["", "-1", "+1", "1e3", "99999999999999999999", "1 "] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_params_take_the_first_value() {
        assert_eq!(
            query_param(Some("order=name&order=x"), "order").as_deref(),
            Some("name")
        );
        assert_eq!(
            query_param(Some("next=%2Fnotes%2F1%2F"), "next").as_deref(),
            Some("/notes/1/")
        );
        assert_eq!(query_param(None, "order"), None);
    }
}
