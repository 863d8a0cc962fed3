//! Hostile input: long fields, unicode, HTML, SQL-looking text, NUL bytes, huge bodies.

use axum::http::StatusCode;

use crate::common::TestApp;
use crate::on_both_backends;

async fn html_is_shown_escaped(app: TestApp) {
    let mut client = app.signed_in("xss@example.com").await;
    let script = "<script>alert('x')</script>";
    let pad = client.create_pad(script).await;
    let note = client
        .create_note(
            &app,
            "<img src=x onerror=alert(1)>",
            "<b>bold</b> & \"quoted\"",
            Some(pad),
        )
        .await;
    for path in [
        "/".to_owned(),
        format!("/pads/{pad}/"),
        format!("/notes/{note}/"),
        format!("/notes/{note}/edit/"),
    ] {
        let page = client.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        page.assert_lacks("<script>alert");
        page.assert_lacks("<img src=x");
        page.assert_has("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;");
    }
    let page = client.get(&format!("/notes/{note}/")).await;
    page.assert_has("&#60;b&#62;bold&#60;/b&#62; &#38; &#34;quoted&#34;");
    let stored = app.db().note(1, note).await.unwrap().unwrap();
    assert_eq!(stored.text, "<b>bold</b> & \"quoted\"");
}

async fn sql_looking_text_is_stored_verbatim(app: TestApp) {
    let mut client = app.signed_in("bobby@example.com").await;
    let name = "Robert'); DROP TABLE notes;--";
    let text = "' OR '1'='1\n\"; DELETE FROM users WHERE ''='\n$1 ? %s \\x00";
    let note = client.create_note(&app, name, text, None).await;
    let stored = app.db().note(1, note).await.unwrap().unwrap();
    assert_eq!(stored.name, name);
    assert_eq!(stored.text, text);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(users, 1);
    client.get("/").await.assert_has("All notes (1)");
}

async fn unicode_and_long_fields(app: TestApp) {
    let mut client = app.signed_in("uni@example.com").await;
    // 100 characters of four bytes each fit the 100-character limit.
    let emoji_name = "📝".repeat(100);
    let pad = client.create_pad("Ünïcödé пад 日本").await;
    // 60 000 characters, 180 kB of UTF-8, over half a megabyte once form-encoded.
    let long_text = "长".repeat(60_000);
    let note = client
        .create_note(&app, &emoji_name, &long_text, Some(pad))
        .await;
    let stored = app.db().note(1, note).await.unwrap().unwrap();
    assert_eq!(stored.name, emoji_name);
    assert_eq!(stored.text, long_text);
    let page = client.get(&format!("/notes/{note}/")).await;
    page.assert_ok_with(&emoji_name);
    client
        .get(&format!("/pads/{pad}/"))
        .await
        .assert_ok_with("Ünïcödé пад 日本 (1)");

    let page = client
        .post(
            "/notes/create/",
            &[("name", &"📝".repeat(101)), ("text", "t"), ("pad", "")],
        )
        .await;
    page.assert_ok_with("(it has 101)");

    // Right-to-left and combining marks are just text.
    let odd = "\u{202E}evil\u{0301}";
    let id = client.create_note(&app, odd, odd, None).await;
    assert_eq!(app.db().note(1, id).await.unwrap().unwrap().text, odd);
}

async fn nul_bytes_are_refused_with_a_message(app: TestApp) {
    let mut client = app.signed_in("nul@example.com").await;
    let page = client
        .post(
            "/notes/create/",
            &[("name", "a\0b"), ("text", "c\0d"), ("pad", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body
            .matches("Null characters are not allowed.")
            .count(),
        2
    );
    let page = client.post("/pads/create/", &[("name", "\0")]).await;
    page.assert_ok_with("Null characters are not allowed.");
    let page = client
        .post(
            "/signup/",
            &[
                ("email", "a\0@example.com"),
                ("password", "p"),
                ("repeat_password", "p"),
            ],
        )
        .await;
    page.assert_ok_with("Enter a valid email address.");
    let page = client
        .post("/forgot-password/", &[("email", "nul\0@example.com")])
        .await;
    page.assert_ok_with("Enter a valid email address.");
}

async fn oversized_and_malformed_bodies_are_refused(app: TestApp) {
    let mut client = app.signed_in("big@example.com").await;
    let token = client.csrf_token().await;
    let huge = format!(
        "csrf_token={token}&name=x&text={}",
        "a".repeat(2 * 1024 * 1024)
    );
    let page = client.post_raw("/notes/create/", &huge).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Broken percent-encoding and stray bytes do not crash anything.
    let page = client
        .post_raw(
            "/notes/create/",
            &format!("csrf_token={token}&name=%ZZ%&text=%E0%A4%A&pad=%00"),
        )
        .await;
    assert!(
        page.status.is_client_error() || page.status == StatusCode::OK,
        "{}",
        page.status
    );
    assert_ne!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(notes, 0);
}

on_both_backends!(
    html_is_shown_escaped,
    sql_looking_text_is_stored_verbatim,
    unicode_and_long_fields,
    nul_bytes_are_refused_with_a_message,
    oversized_and_malformed_bodies_are_refused,
);
