//! The test app (on SQLite or on the shared PostgreSQL cluster) and a small client
//! that keeps the session cookie and fills in the CSRF token, as a browser would.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use notejam::config::Config;
use notejam::db::Db;
use notejam::web::AppState;
use tower::ServiceExt;

use crate::pg;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(&[]).await
    }

    pub async fn postgres() -> TestApp {
        Self::postgres_with(&[]).await
    }

    pub async fn sqlite_with(vars: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("notejam.db").display());
        Self::build(url, Some(dir), vars).await
    }

    pub async fn postgres_with(vars: &[(&str, &str)]) -> TestApp {
        Self::build(pg::fresh_database().await, None, vars).await
    }

    /// Two web nodes on one PostgreSQL database, as behind the load balancer.
    pub async fn postgres_pair() -> (TestApp, TestApp) {
        let url = pg::fresh_database().await;
        let first = Self::build(url.clone(), None, &[]).await;
        let second = Self::build(url, None, &[]).await;
        (first, second)
    }

    /// Waits until the node's cache follows the change feed (PostgreSQL).
    pub async fn wait_for_cache(&self) {
        for _ in 0..200 {
            if self.state.cache.is_enabled() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the content cache never started listening for changes");
    }

    async fn build(url: String, dir: Option<tempfile::TempDir>, vars: &[(&str, &str)]) -> TestApp {
        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".to_owned(), url.clone()),
            ("NOTEJAM_METRICS".to_owned(), "off".to_owned()),
            ("NOTEJAM_DB_MAX_CONNECTIONS".to_owned(), "4".to_owned()),
            ("NOTEJAM_SECRET_KEY".to_owned(), "k".repeat(64)),
        ]);
        for (name, value) in vars {
            env.insert(name.to_string(), value.to_string());
        }
        let config = Config::from_lookup(|name| env.get(name).cloned()).expect("test config");
        let (router, state) = notejam::build(&config).await.expect("app starts");
        TestApp {
            router,
            state,
            _dir: dir,
        }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookie: None,
            extra_headers: Vec::new(),
        }
    }

    /// A client signed in as a new user with this email (password "secret-pass").
    pub async fn signed_in(&self, email: &str) -> Client {
        let mut client = self.client();
        client.sign_up(email, PASSWORD).await;
        client.sign_in(email, PASSWORD).await;
        client
    }
}

pub const PASSWORD: &str = "secret-pass";

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert!(
            self.status.is_redirection(),
            "expected a redirect to {to}, got {}: {}",
            self.status,
            &self.body[..self.body.len().min(2000)]
        );
        assert_eq!(self.location(), to);
    }

    #[track_caller]
    pub fn assert_ok_with(&self, text: &str) {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            &self.body[..self.body.len().min(3000)]
        );
        self.assert_has(text);
    }

    #[track_caller]
    pub fn assert_has(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "page ({}) lacks {text:?}:\n{}",
            self.status,
            &self.body[..self.body.len().min(4000)]
        );
    }

    #[track_caller]
    pub fn assert_lacks(&self, text: &str) {
        assert!(
            !self.body.contains(text),
            "page has {text:?}:\n{}",
            self.body
        );
    }

    /// The value of the first `<input name=…>`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// The ids in the links to notes, in page order.
    pub fn note_links(&self) -> Vec<i64> {
        self.body
            .split("<td><a href=\"/notes/")
            .skip(1)
            .filter_map(|rest| rest.split('/').next()?.parse().ok())
            .collect()
    }
}

pub struct Client {
    router: Router,
    cookie: Option<String>,
    extra_headers: Vec<(String, String)>,
}

impl Client {
    pub fn with_header(mut self, name: &str, value: &str) -> Client {
        self.extra_headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    pub fn set_cookie(&mut self, cookie: Option<String>) {
        self.cookie = cookie;
    }

    pub async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let pair = value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            if pair.starts_with("notejam_session=") {
                self.cookie = Some(pair);
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn request(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        for (name, value) in &self.extra_headers {
            builder = builder.header(name, value);
        }
        builder
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        let request = self.request(Method::GET, uri).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// The session's CSRF token, read from a form as a browser would have it.
    pub async fn csrf_token(&mut self) -> String {
        self.get("/signin/")
            .await
            .input_value("csrf_token")
            .expect("a csrf token on the sign-in form")
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(uri, &encode(&all)).await
    }

    /// Posts a body exactly as given (no CSRF token added).
    pub async fn post_raw(&mut self, uri: &str, body: &str) -> Page {
        let request = self
            .request(Method::POST, uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    pub async fn sign_up(&mut self, email: &str, password: &str) -> Page {
        let page = self
            .post(
                "/signup/",
                &[
                    ("email", email),
                    ("password", password),
                    ("repeat_password", password),
                ],
            )
            .await;
        page.assert_redirect("/signin/");
        page
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let page = self
            .post("/signin/", &[("email", email), ("password", password)])
            .await;
        page.assert_redirect("/");
        page
    }

    /// Creates a pad and returns its id.
    pub async fn create_pad(&mut self, name: &str) -> i64 {
        let page = self.post("/pads/create/", &[("name", name)]).await;
        assert!(
            page.status.is_redirection(),
            "pad not created: {}",
            page.body
        );
        id_in(page.location(), "/pads/")
    }

    /// Creates a note and returns its id (read back from the database by name).
    pub async fn create_note(
        &mut self,
        app: &TestApp,
        name: &str,
        text: &str,
        pad: Option<i64>,
    ) -> i64 {
        let pad_text = pad.map(|p| p.to_string()).unwrap_or_default();
        let page = self
            .post(
                "/notes/create/",
                &[("name", name), ("text", text), ("pad", &pad_text)],
            )
            .await;
        assert!(
            page.status.is_redirection(),
            "note not created: {}",
            page.body
        );
        let all: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM notes ORDER BY id DESC")
            .fetch_all(app.db().pool())
            .await
            .unwrap();
        all.into_iter()
            .find(|(_, n)| n == name.trim())
            .map(|(id, _)| id)
            .expect("the new note is stored")
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

pub fn id_in(location: &str, prefix: &str) -> i64 {
    location
        .strip_prefix(prefix)
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no id in {location:?}"))
}

/// Runs each named scenario `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::TestApp::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::TestApp::postgres().await).await;
                }
            )*
        }
    };
}
