//! Pads: create, view, rename, delete with their notes; another user's pad is a 404.

use axum::http::StatusCode;

use crate::common::TestApp;
use crate::on_both_backends;

async fn create_view_rename_pads(app: TestApp) {
    let mut client = app.signed_in("pat@example.com").await;
    client.get("/pads/create/").await.assert_ok_with("New pad");

    client
        .post("/pads/create/", &[("name", "   ")])
        .await
        .assert_ok_with("This field is required.");
    let long = "p".repeat(101);
    let page = client.post("/pads/create/", &[("name", &long)]).await;
    page.assert_ok_with("Ensure this value has at most 100 characters (it has 101).");
    assert_eq!(page.input_value("name").as_deref(), Some(long.as_str()));

    let page = client
        .post("/pads/create/", &[("name", &"p".repeat(100))])
        .await;
    assert!(page.status.is_redirection());
    let pad = client.create_pad("Groceries").await;
    let page = client.get(&format!("/pads/{pad}/")).await;
    page.assert_ok_with("Pad is successfully created");
    page.assert_has("Groceries (0)");
    page.assert_has(&format!("href=\"/notes/create/?pad={pad}\""));
    page.assert_has(&format!("href=\"/pads/{pad}/edit/\""));
    // The sidebar lists the user's pads on every page.
    client
        .get("/")
        .await
        .assert_has(&format!("<a href=\"/pads/{pad}/\">Groceries</a>"));

    let page = client.get(&format!("/pads/{pad}/edit/")).await;
    assert_eq!(page.input_value("name").as_deref(), Some("Groceries"));
    page.assert_has(&format!("href=\"/pads/{pad}/delete/\""));
    client
        .post(&format!("/pads/{pad}/edit/"), &[("name", "")])
        .await
        .assert_ok_with("This field is required.");
    client
        .post(&format!("/pads/{pad}/edit/"), &[("name", "Shopping")])
        .await
        .assert_redirect(&format!("/pads/{pad}/"));
    let page = client.get(&format!("/pads/{pad}/")).await;
    page.assert_has("Pad is successfully updated");
    page.assert_has("Shopping (0)");
}

async fn deleting_a_pad_deletes_its_notes(app: TestApp) {
    let mut client = app.signed_in("quinn@example.com").await;
    let pad = client.create_pad("Doomed").await;
    let other = client.create_pad("Kept").await;
    let in_pad = client
        .create_note(&app, "goes", "with the pad", Some(pad))
        .await;
    let elsewhere = client
        .create_note(&app, "stays", "in another pad", Some(other))
        .await;
    let loose = client.create_note(&app, "loose", "no pad", None).await;

    client
        .get(&format!("/pads/{pad}/delete/"))
        .await
        .assert_ok_with("Are you sure you want to delete <strong>Doomed</strong>");
    client
        .post(&format!("/pads/{pad}/delete/"), &[])
        .await
        .assert_redirect("/");
    let home = client.get("/").await;
    home.assert_has("Pad is successfully deleted");
    home.assert_has("All notes (2)");
    assert_eq!(
        client.get(&format!("/pads/{pad}/")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client.get(&format!("/notes/{in_pad}/")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app.db().note(1, elsewhere).await.unwrap().is_some());
    assert!(app.db().note(1, loose).await.unwrap().is_some());
}

async fn another_users_pad_is_not_found_and_unchanged(app: TestApp) {
    let mut owner = app.signed_in("rita@example.com").await;
    let pad = owner.create_pad("Private").await;
    let note = owner.create_note(&app, "secret", "diary", Some(pad)).await;
    let mut intruder = app.signed_in("sam@example.com").await;
    let own_pad = intruder.create_pad("Mine").await;

    for path in [
        format!("/pads/{pad}/"),
        format!("/pads/{pad}/edit/"),
        format!("/pads/{pad}/delete/"),
        format!("/notes/create/?pad={pad}"),
        "/pads/999999/".to_owned(),
        "/pads/abc/".to_owned(),
        "/notes/create/?pad=abc".to_owned(),
    ] {
        let page = intruder.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        page.assert_lacks("Private");
    }
    for path in [format!("/pads/{pad}/edit/"), format!("/pads/{pad}/delete/")] {
        let page = intruder.post(&path, &[("name", "pwned")]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Offering someone else's pad as a note's pad is an invalid choice.
    let page = intruder
        .post(
            "/notes/create/",
            &[("name", "n"), ("text", "t"), ("pad", &pad.to_string())],
        )
        .await;
    page.assert_ok_with("Select a valid choice. That choice is not one of the available choices.");
    let page = intruder
        .post(
            "/notes/create/",
            &[("name", "n"), ("text", "t"), ("pad", "not-a-number")],
        )
        .await;
    page.assert_ok_with("Select a valid choice.");

    let (name,): (String,) = sqlx::query_as("SELECT name FROM pads WHERE id = $1")
        .bind(pad)
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(name, "Private");
    let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE pad_id = $1")
        .bind(pad)
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(owned, 1);
    // The intruder's own pad still works for them.
    intruder
        .get(&format!("/pads/{own_pad}/"))
        .await
        .assert_ok_with("Mine (0)");
    owner
        .get(&format!("/notes/{note}/"))
        .await
        .assert_ok_with("diary");
}

on_both_backends!(
    create_view_rename_pads,
    deleting_a_pad_deletes_its_notes,
    another_users_pad_is_not_found_and_unchanged,
);
