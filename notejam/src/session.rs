//! Sessions in an encrypted, authenticated cookie (AES-256-GCM via the `cookie`
//! crate's private jar), so any web node can serve any user with no session table.
//!
//! The session holds the signed-in user, the CSRF token that every POST form must
//! echo back, an expiry checked on the server, and at most one flash message.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::config::SecureCookies;
use crate::password::random_token;
use crate::web::{AppState, errors};

pub const COOKIE_NAME: &str = "notejam_session";
pub const CSRF_FIELD: &str = "csrf_token";
/// Largest form body accepted; a note's text is the only large field.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;
const LIFETIME_SECS: i64 = 14 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    /// The account's session epoch at sign-in: a password change bumps it, which ends
    /// every other session of the account.
    #[serde(default)]
    pub epoch: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Data {
    #[serde(rename = "u")]
    user: Option<SessionUser>,
    #[serde(rename = "c")]
    csrf: String,
    /// Unix seconds; a cookie replayed after this is treated as absent.
    #[serde(rename = "x")]
    expires: i64,
    #[serde(rename = "f", default)]
    flash: Option<Flash>,
}

impl Data {
    fn fresh(user: Option<SessionUser>) -> Data {
        Data {
            user,
            csrf: random_token(32),
            expires: now_secs() + LIFETIME_SECS,
            flash: None,
        }
    }
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct Inner {
    data: Data,
    dirty: bool,
}

/// The current request's session; changes are written back as a cookie on the response.
#[derive(Clone)]
pub struct Session(Arc<Mutex<Inner>>);

impl Session {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the plain data half-written.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn user(&self) -> Option<SessionUser> {
        self.lock().data.user.clone()
    }

    pub fn csrf_token(&self) -> String {
        self.lock().data.csrf.clone()
    }

    /// A new session (and CSRF token) for the signed-in user, so a token or cookie
    /// seen before sign-in is worth nothing after it.
    pub fn sign_in(&self, user: SessionUser) {
        let mut inner = self.lock();
        let flash = inner.data.flash.take();
        inner.data = Data::fresh(Some(user));
        inner.data.flash = flash;
        inner.dirty = true;
    }

    pub fn sign_out(&self) {
        let mut inner = self.lock();
        inner.data = Data::fresh(None);
        inner.dirty = true;
    }

    pub fn flash(&self, text: impl Into<String>) {
        let mut inner = self.lock();
        inner.data.flash = Some(Flash { text: text.into() });
        inner.dirty = true;
    }

    /// The pending flash message, removed so it shows once.
    pub fn take_flash(&self) -> Option<Flash> {
        let mut inner = self.lock();
        let flash = inner.data.flash.take();
        if flash.is_some() {
            inner.dirty = true;
        }
        flash
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The signed-in user. Anonymous visitors, and sessions ended by a password change or
/// a deleted account, are sent to sign in and then back here.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub session: Session,
}

fn to_sign_in(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/signin/?next={next}")).into_response()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(user) = session.user() else {
            return Err(to_sign_in(parts));
        };
        // The cached lists carry the epoch; without them, one small query.
        let epoch = match app.cache.get(user.id) {
            Some(content) => content.session_epoch,
            None => app
                .db
                .session_epoch(user.id)
                .await
                .map_err(|error| errors::AppError::from(error).into_response())?,
        };
        if epoch != Some(user.epoch) {
            tracing::info!(
                user_id = user.id,
                "session ended by a password change or a deleted account"
            );
            session.sign_out();
            return Err(to_sign_in(parts));
        }
        Ok(CurrentUser {
            id: user.id,
            email: user.email,
            session,
        })
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

/// Loads the session, refuses POSTs whose CSRF token does not match it, and writes
/// the session back when a handler changed it.
pub async fn middleware(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let loaded = read_cookie(&parts.headers, &app.key);
    let is_new = loaded.is_none();
    let session = Session(Arc::new(Mutex::new(Inner {
        data: loaded.unwrap_or_else(|| Data::fresh(None)),
        dirty: is_new,
    })));

    let body = if parts.method == Method::POST {
        let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return errors::page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
            }
        };
        if !csrf_matches(&bytes, &session.csrf_token()) {
            tracing::warn!(
                path = parts.uri.path(),
                "POST refused: CSRF token missing or wrong"
            );
            let mut response = errors::page(
                StatusCode::FORBIDDEN,
                "The form has expired or did not come from this site (CSRF token missing or \
                 incorrect). Go back, reload the page and try again.",
            );
            let secure = is_secure(&app, &parts.headers);
            write_cookie(&session, &app, secure, &mut response);
            return response;
        }
        Body::from(bytes)
    } else {
        body
    };

    parts.extensions.insert(session.clone());
    let secure = is_secure(&app, &parts.headers);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    write_cookie(&session, &app, secure, &mut response);
    response
}

fn csrf_matches(form: &[u8], expected: &str) -> bool {
    form_urlencoded::parse(form)
        .find(|(name, _)| name == CSRF_FIELD)
        .is_some_and(|(_, given)| given.as_bytes().ct_eq(expected.as_bytes()).into())
}

fn read_cookie(headers: &HeaderMap, key: &Key) -> Option<Data> {
    let mut jar = CookieJar::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in Cookie::split_parse_encoded(value).flatten() {
            if cookie.name() == COOKIE_NAME {
                jar.add_original(cookie.into_owned());
            }
        }
    }
    let cookie = jar.private(key).get(COOKIE_NAME)?;
    let data: Data = serde_json::from_str(cookie.value()).ok()?;
    (data.expires > now_secs()).then_some(data)
}

/// Whether the cookie gets `Secure`: by configuration, or when the ALB says the
/// browser came over HTTPS.
fn is_secure(app: &AppState, request: &HeaderMap) -> bool {
    match app.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => request
            .get("x-forwarded-proto")
            .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https")),
    }
}

fn write_cookie(session: &Session, app: &AppState, secure: bool, response: &mut Response) {
    let inner = session.lock();
    if !inner.dirty {
        return;
    }
    let Ok(value) = serde_json::to_string(&inner.data) else {
        return;
    };
    let cookie = Cookie::build((COOKIE_NAME, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(LIFETIME_SECS))
        .build();
    let mut jar = CookieJar::new();
    jar.private_mut(&app.key).add(cookie);
    if let Some(sealed) = jar.get(COOKIE_NAME)
        && let Ok(header_value) = HeaderValue::from_str(&sealed.encoded().to_string())
    {
        response
            .headers_mut()
            .append(header::SET_COOKIE, header_value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_field_must_match_exactly() {
        assert!(csrf_matches(b"name=x&csrf_token=abc", "abc"));
        assert!(!csrf_matches(b"name=x&csrf_token=abd", "abc"));
        assert!(!csrf_matches(b"name=x&csrf_token=", "abc"));
        assert!(!csrf_matches(b"name=x", "abc"));
    }

    #[test]
    fn a_cookie_from_another_key_or_expired_is_ignored() {
        let key = Key::generate();
        let other = Key::generate();
        let data = Data::fresh(Some(SessionUser {
            id: 7,
            email: "a@b.co".into(),
            epoch: 0,
        }));
        let seal = |key: &Key, data: &Data| {
            let mut jar = CookieJar::new();
            jar.private_mut(key).add(Cookie::new(
                COOKIE_NAME,
                serde_json::to_string(data).unwrap(),
            ));
            let mut headers = HeaderMap::new();
            let sealed = jar.get(COOKIE_NAME).unwrap().encoded().to_string();
            headers.insert(header::COOKIE, HeaderValue::from_str(&sealed).unwrap());
            headers
        };
        let loaded = read_cookie(&seal(&key, &data), &key).unwrap();
        assert_eq!(loaded.user.unwrap().id, 7);
        assert!(read_cookie(&seal(&other, &data), &key).is_none());
        let expired = Data {
            expires: now_secs() - 1,
            ..data
        };
        assert!(read_cookie(&seal(&key, &expired), &key).is_none());
    }
}
