//! Notes: create, view, edit, delete, sorting; another user's note is a 404.

use std::time::Duration;

use axum::http::StatusCode;

use crate::common::TestApp;
use crate::on_both_backends;

async fn note_form_validation_keeps_the_input(app: TestApp) {
    let mut client = app.signed_in("nia@example.com").await;
    let pad = client.create_pad("Ideas").await;
    let page = client.get(&format!("/notes/create/?pad={pad}")).await;
    page.assert_ok_with(&format!("<option value=\"{pad}\" selected>Ideas</option>"));

    let page = client
        .post(
            "/notes/create/",
            &[("name", ""), ("text", " "), ("pad", "")],
        )
        .await;
    assert_eq!(page.body.matches("This field is required.").count(), 2);

    let long = "n".repeat(101);
    let page = client
        .post(
            "/notes/create/",
            &[
                ("name", &long),
                ("text", "kept text"),
                ("pad", &pad.to_string()),
            ],
        )
        .await;
    page.assert_ok_with("Ensure this value has at most 100 characters (it has 101).");
    assert_eq!(page.input_value("name").as_deref(), Some(long.as_str()));
    page.assert_has(">kept text</textarea>");
    page.assert_has(&format!("<option value=\"{pad}\" selected>Ideas</option>"));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

async fn create_view_edit_delete_a_note(app: TestApp) {
    let mut client = app.signed_in("ola@example.com").await;
    let pad = client.create_pad("Trips").await;

    // Without a pad: back to all notes.
    client
        .post(
            "/notes/create/",
            &[("name", "Loose"), ("text", "no pad"), ("pad", "")],
        )
        .await
        .assert_redirect("/");
    let home = client.get("/").await;
    home.assert_has("Note is successfully created");
    home.assert_has("All notes (1)");
    home.assert_has("No pad");

    // In a pad: to the pad's page.
    client
        .post(
            "/notes/create/",
            &[
                ("name", "Rome"),
                ("text", "Line one\nLine two"),
                ("pad", &pad.to_string()),
            ],
        )
        .await
        .assert_redirect(&format!("/pads/{pad}/"));
    let pad_page = client.get(&format!("/pads/{pad}/")).await;
    pad_page.assert_has("Trips (1)");
    pad_page.assert_has("Rome");
    pad_page.assert_lacks("Loose");
    let note = pad_page.note_links()[0];
    client
        .get("/")
        .await
        .assert_has(&format!("<a href=\"/pads/{pad}/\">Trips</a></td>"));

    let page = client.get(&format!("/notes/{note}/")).await;
    page.assert_ok_with("Rome");
    page.assert_has("Last edited Today at ");
    page.assert_has("Line one\nLine two");
    page.assert_has(&format!("href=\"/notes/{note}/edit/\""));
    page.assert_has(&format!("href=\"/notes/{note}/delete/\""));

    let before = app.db().note(1, note).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let page = client.get(&format!("/notes/{note}/edit/")).await;
    assert_eq!(page.input_value("name").as_deref(), Some("Rome"));
    client
        .post(
            &format!("/notes/{note}/edit/"),
            &[("name", ""), ("text", "x"), ("pad", "")],
        )
        .await
        .assert_ok_with("This field is required.");
    client
        .post(
            &format!("/notes/{note}/edit/"),
            &[("name", "Rome 2"), ("text", "new text"), ("pad", "")],
        )
        .await
        .assert_redirect(&format!("/notes/{note}/"));
    let page = client.get(&format!("/notes/{note}/")).await;
    page.assert_has("Note is successfully updated");
    page.assert_has("new text");
    let after = app.db().note(1, note).await.unwrap().unwrap();
    assert_eq!(after.pad_id, None, "moved out of the pad");
    assert!(
        after.updated_at > before.updated_at,
        "updated_at moves on edit"
    );
    assert_eq!(after.created_at, before.created_at);

    client
        .get(&format!("/notes/{note}/delete/"))
        .await
        .assert_ok_with("Are you sure you want to delete <strong>Rome 2</strong>");
    client
        .post(&format!("/notes/{note}/delete/"), &[])
        .await
        .assert_redirect("/");
    client
        .get("/")
        .await
        .assert_has("Note is successfully deleted");
    assert_eq!(
        client.get(&format!("/notes/{note}/")).await.status,
        StatusCode::NOT_FOUND
    );

    // Deleting a note that sits in a pad goes back to the pad.
    let in_pad = client.create_note(&app, "Paris", "t", Some(pad)).await;
    client
        .post(&format!("/notes/{in_pad}/delete/"), &[])
        .await
        .assert_redirect(&format!("/pads/{pad}/"));
}

async fn another_users_note_is_not_found_and_unchanged(app: TestApp) {
    let mut owner = app.signed_in("pia@example.com").await;
    let note = owner.create_note(&app, "mine", "original", None).await;
    let mut intruder = app.signed_in("rob@example.com").await;

    for path in [
        format!("/notes/{note}/"),
        format!("/notes/{note}/edit/"),
        format!("/notes/{note}/delete/"),
        "/notes/424242/".to_owned(),
        "/notes/x1/".to_owned(),
    ] {
        let page = intruder.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        page.assert_lacks("original");
    }
    let edit = intruder
        .post(
            &format!("/notes/{note}/edit/"),
            &[("name", "pwned"), ("text", "pwned"), ("pad", "")],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    let delete = intruder.post(&format!("/notes/{note}/delete/"), &[]).await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    intruder.get("/").await.assert_has("All notes (0)");

    let stored = app.db().note(1, note).await.unwrap().expect("still there");
    assert_eq!(
        (stored.name.as_str(), stored.text.as_str()),
        ("mine", "original")
    );
}

async fn lists_sort_by_name_and_update_both_ways(app: TestApp) {
    let mut client = app.signed_in("sue@example.com").await;
    let pad = client.create_pad("Sorted").await;
    let mut ids = Vec::new();
    for name in ["banana", "apple", "cherry"] {
        ids.push(client.create_note(&app, name, "t", Some(pad)).await);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let (banana, apple, cherry) = (ids[0], ids[1], ids[2]);
    // Touch banana: it becomes the most recently updated.
    client
        .post(
            &format!("/notes/{banana}/edit/"),
            &[
                ("name", "banana"),
                ("text", "t2"),
                ("pad", &pad.to_string()),
            ],
        )
        .await
        .assert_redirect(&format!("/notes/{banana}/"));

    for base in ["/".to_owned(), format!("/pads/{pad}/")] {
        let cases: [(&str, Vec<i64>); 6] = [
            ("", vec![banana, cherry, apple]),
            ("?order=-updated_at", vec![banana, cherry, apple]),
            ("?order=updated_at", vec![apple, cherry, banana]),
            ("?order=name", vec![apple, banana, cherry]),
            ("?order=-name", vec![cherry, banana, apple]),
            (
                "?order=DROP%20TABLE&order=name",
                vec![banana, cherry, apple],
            ),
        ];
        for (query, expected) in cases {
            let url = format!("{base}{query}");
            let page = client.get(&url).await;
            assert_eq!(page.status, StatusCode::OK, "{url}");
            assert_eq!(page.note_links(), expected, "{url}");
        }
    }
    // The active sort is marked.
    client
        .get("/?order=-name")
        .await
        .assert_has("class=\"sort active\" href=\"/?order=-name\"");
}

/// List pages are sent as rendered before (content::UserContent::page) until something
/// they show changes: a note, a pad's name, a flash message, the order.
async fn list_pages_follow_every_change(app: TestApp) {
    let mut client = app.signed_in("lea@example.com").await;
    let pad = client.create_pad("Kept").await;
    let note = client.create_note(&app, "first", "t", Some(pad)).await;
    let pad_page = format!("/pads/{pad}/");
    // The redirect's page shows the flash once; the next ones are the same page without it.
    client
        .get(&pad_page)
        .await
        .assert_has("Note is successfully created");
    for url in ["/", pad_page.as_str()] {
        let once = client.get(url).await;
        let twice = client.get(url).await;
        once.assert_lacks("successfully");
        once.assert_has(">first</a>");
        assert_eq!(once.body, twice.body, "{url}");
    }

    client
        .post(
            &format!("/notes/{note}/edit/"),
            &[("name", "second"), ("text", "t"), ("pad", &pad.to_string())],
        )
        .await
        .assert_redirect(&format!("/notes/{note}/"));
    for url in ["/", pad_page.as_str()] {
        let page = client.get(url).await;
        page.assert_has(">second</a>");
        page.assert_lacks(">first</a>");
    }

    client
        .post(&format!("/pads/{pad}/edit/"), &[("name", "Renamed")])
        .await
        .assert_redirect(&pad_page);
    let page = client.get(&pad_page).await;
    page.assert_has("Pad is successfully updated");
    page.assert_has("Renamed (1)");
    let page = client.get(&pad_page).await;
    page.assert_lacks("successfully");
    page.assert_has("Renamed (1)");
    client.get("/").await.assert_has(">Renamed</a>");
    client
        .get("/?order=name")
        .await
        .assert_has("class=\"sort active\" href=\"/?order=name\"");
    client
        .get("/")
        .await
        .assert_has("class=\"sort active\" href=\"/?order=-updated_at\"");

    // Another account's pages are its own.
    let mut other = app.signed_in("max@example.com").await;
    let page = other.get("/").await;
    page.assert_has("All notes (0)");
    page.assert_has("max@example.com");
    page.assert_lacks("lea@example.com");
}

on_both_backends!(
    note_form_validation_keeps_the_input,
    create_view_edit_delete_a_note,
    another_users_note_is_not_found_and_unchanged,
    lists_sort_by_name_and_update_both_ways,
    list_pages_follow_every_change,
);
