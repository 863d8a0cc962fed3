//! What the platform relies on: probes, CSRF, canonical URLs, cookies, request ids,
//! migrations applied once when several nodes start together.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::common::{TestApp, encode};
use crate::on_both_backends;

async fn probes_answer(app: TestApp) {
    let mut client = app.client();
    let page = client.get("/healthz").await;
    assert_eq!((page.status, page.body.as_str()), (StatusCode::OK, "ok\n"));
    let page = client.get("/readyz").await;
    assert_eq!(
        (page.status, page.body.as_str()),
        (StatusCode::OK, "ready\n")
    );
    // Probes start no session.
    assert!(page.headers.get(header::SET_COOKIE).is_none());
    app.db().close().await;
    let page = client.get("/readyz").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
}

async fn posts_without_the_right_csrf_token_are_refused(app: TestApp) {
    let mut victim = app.signed_in("vic@example.com").await;
    let mut attacker = app.signed_in("att@example.com").await;
    let attackers_token = attacker.csrf_token().await;

    let forms = [
        ("/pads/create/", vec![("name", "forged")]),
        (
            "/notes/create/",
            vec![("name", "forged"), ("text", "t"), ("pad", "")],
        ),
        (
            "/settings/",
            vec![
                ("old_password", "x"),
                ("new_password", "y"),
                ("repeat_new_password", "y"),
            ],
        ),
    ];
    for (path, fields) in &forms {
        for token in [
            None,
            Some(""),
            Some("wrong"),
            Some(attackers_token.as_str()),
        ] {
            let mut all = fields.clone();
            if let Some(token) = token {
                all.push(("csrf_token", token));
            }
            let page = victim.post_raw(path, &encode(&all)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} with {token:?}");
            page.assert_has("CSRF token missing or incorrect");
        }
    }
    // Also before signing in: a forged sign-in or sign-up does nothing.
    let mut anonymous = app.client();
    let page = anonymous
        .post_raw(
            "/signup/",
            &encode(&[
                ("email", "new@example.com"),
                ("password", "p"),
                ("repeat_password", "p"),
            ]),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM pads), (SELECT COUNT(*) FROM notes), (SELECT COUNT(*) FROM users)",
    )
    .fetch_one(app.db().pool())
    .await
    .unwrap();
    assert_eq!(counts, (0, 0, 2));
    // With its own token the same form goes through.
    victim
        .post("/pads/create/", &[("name", "real")])
        .await
        .assert_redirect("/pads/1/");
}

async fn urls_without_trailing_slash_redirect(app: TestApp) {
    let mut client = app.signed_in("url@example.com").await;
    for (from, to) in [
        ("/signin", "/signin/"),
        ("/signup", "/signup/"),
        ("/forgot-password", "/forgot-password/"),
        ("/settings", "/settings/"),
        ("/notes/create?pad=3", "/notes/create/?pad=3"),
        ("/notes/12", "/notes/12/"),
        ("/notes/12/edit", "/notes/12/edit/"),
        ("/pads/7/delete", "/pads/7/delete/"),
    ] {
        let page = client.get(from).await;
        assert_eq!(page.status, StatusCode::PERMANENT_REDIRECT, "{from}");
        assert_eq!(page.location(), to);
    }
    for missing in ["/nope", "/nope/", "/notes/abc", "/pads/", "/notes/1/view/"] {
        let page = client.get(missing).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{missing}");
        page.assert_has("does not exist");
    }
}

async fn session_cookie_flags(app: TestApp) {
    let mut plain = app.client();
    let page = plain.get("/signin/").await;
    let cookie = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    let mut behind_alb = app.client().with_header("x-forwarded-proto", "https");
    let page = behind_alb.get("/signin/").await;
    let cookie = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");

    // The cookie is sealed: its content is neither readable nor forgeable.
    let mut client = app.signed_in("seal@example.com").await;
    let sealed = client.cookie().unwrap().to_owned();
    assert!(!sealed.contains("seal@example.com"));
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    client.set_cookie(Some(String::from_utf8(tampered).unwrap()));
    client.get("/").await.assert_redirect("/signin/?next=%2F");
}

async fn request_ids_are_kept_or_made(app: TestApp) {
    let mut client = app.client().with_header("x-request-id", "abc-123");
    let page = client.get("/healthz").await;
    assert_eq!(page.headers.get("x-request-id").unwrap(), "abc-123");
    let mut client = app.client();
    let page = client.get("/signin/").await;
    let id = page.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert!(id.len() >= 16, "{id}");
}

async fn stylesheet_is_served(app: TestApp) {
    let mut client = app.client();
    let page = client.get("/static/notejam.css").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers.get(header::CONTENT_TYPE).unwrap(),
        "text/css; charset=utf-8"
    );
    page.assert_has(".sidebar");
    // Every page links it and needs nothing else from anywhere.
    let page = client.get("/signin/").await;
    page.assert_has("href=\"/static/notejam.css\"");
    page.assert_lacks("<script");
    page.assert_lacks("https://");
}

async fn head_and_unsupported_methods(app: TestApp) {
    let mut client = app.client();
    let page = client
        .send(
            Request::builder()
                .method("DELETE")
                .uri("/signin/")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
}

on_both_backends!(
    probes_answer,
    posts_without_the_right_csrf_token_are_refused,
    urls_without_trailing_slash_redirect,
    session_cookie_flags,
    request_ids_are_kept_or_made,
    stylesheet_is_served,
    head_and_unsupported_methods,
);

/// Web nodes starting at once: each runs the migrator, PostgreSQL's advisory lock
/// lets one apply the migrations and the others find them done.
#[tokio::test]
async fn concurrent_starts_apply_migrations_once_on_postgres() {
    let url = crate::pg::fresh_database().await;
    let starts = (0..4).map(|_| {
        let url = url.clone();
        async move { notejam::db::Db::connect(&url, 2).await }
    });
    let dbs = futures_join_all(starts).await;
    for db in &dbs {
        db.as_ref().expect("every node starts");
    }
    let db = dbs.into_iter().next().unwrap().unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let files = std::fs::read_dir(format!("{manifest_dir}/migrations/postgres"))
        .unwrap()
        .count() as i64;
    assert_eq!(applied, files, "each migration recorded once");
}

#[tokio::test]
async fn concurrent_starts_apply_migrations_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let dbs = futures_join_all((0..3).map(|_| {
        let url = url.clone();
        async move { notejam::db::Db::connect(&url, 2).await }
    }))
    .await;
    for db in &dbs {
        db.as_ref().expect("every start succeeds");
    }
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_start_error() {
    let error = notejam::db::Db::connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2", 1)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot connect to the database"),
        "{error}"
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.path().join("missing.db").display()
    );
    let error = notejam::db::Db::connect(&url, 1).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot connect to the database"),
        "{error}"
    );
}

/// Runs the futures on the runtime's threads at once and collects their outputs.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

/// Two nodes behind the load balancer: a change made through one shows on the other,
/// whose cached lists the change feed (LISTEN/NOTIFY) invalidates.
#[tokio::test]
async fn a_change_on_one_node_shows_on_the_other() {
    let (first, second) = TestApp::postgres_pair().await;
    first.wait_for_cache().await;
    second.wait_for_cache().await;
    let mut on_first = first.signed_in("two@example.com").await;
    // The same session works on both nodes (stateless web tier).
    let mut on_second = second.client();
    on_second.set_cookie(on_first.cookie().map(str::to_owned));
    on_second.get("/").await.assert_ok_with("All notes (0)");
    assert_eq!(
        second.state.cache.len(),
        1,
        "the second node cached the lists"
    );

    let pad = on_first.create_pad("Shared").await;
    on_first
        .create_note(&first, "from the first node", "t", Some(pad))
        .await;
    let mut seen = false;
    for _ in 0..100 {
        let page = on_second.get("/").await;
        if page.body.contains("All notes (1)") {
            page.assert_has("from the first node");
            page.assert_has(">Shared</a>");
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen, "the second node kept serving its stale lists");

    // And deleting there empties the list here, right away on the writing node.
    on_second
        .post(&format!("/pads/{pad}/delete/"), &[])
        .await
        .assert_redirect("/");
    on_second.get("/").await.assert_has("All notes (0)");
    let mut emptied = false;
    for _ in 0..100 {
        if on_first.get("/").await.body.contains("All notes (0)") {
            emptied = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(emptied, "the first node kept serving its stale lists");
}

/// With the cache turned off every page reads the database; behaviour is the same.
#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let app = TestApp::postgres_with(&[("NOTEJAM_CACHE_USERS", "0")]).await;
    let mut client = app.signed_in("nocache@example.com").await;
    let pad = client.create_pad("P").await;
    client.create_note(&app, "n", "t", Some(pad)).await;
    client.get("/").await.assert_ok_with("All notes (1)");
    assert!(!app.state.cache.is_enabled());
    assert_eq!(app.state.cache.len(), 0);
}

/// A password changed through one node ends the account's sessions on the other,
/// whose cached copy of the session epoch the change feed drops.
#[tokio::test]
async fn a_password_change_on_one_node_ends_sessions_on_the_other() {
    let (first, second) = TestApp::postgres_pair().await;
    first.wait_for_cache().await;
    second.wait_for_cache().await;
    let mut on_first = first.signed_in("epoch@example.com").await;
    let mut on_second = second.client();
    on_second
        .sign_in("epoch@example.com", crate::common::PASSWORD)
        .await;
    on_second.get("/").await.assert_ok_with("All notes (0)");
    assert_eq!(second.state.cache.len(), 1);

    on_first
        .post(
            "/settings/",
            &[
                ("old_password", crate::common::PASSWORD),
                ("new_password", "changed-pass"),
                ("repeat_new_password", "changed-pass"),
            ],
        )
        .await
        .assert_redirect("/");
    let mut ended = false;
    for _ in 0..100 {
        let page = on_second.get("/").await;
        if page.status.is_redirection() {
            assert_eq!(page.location(), "/signin/?next=%2F");
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ended, "the other node kept the old session alive");
    on_first.get("/").await.assert_ok_with("All notes (0)");
}
