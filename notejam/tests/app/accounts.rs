//! Sign up, sign in, sign out, forgot password, account settings.

use axum::http::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::{PASSWORD, TestApp};
use crate::on_both_backends;

const REQUIRED: &str = "This field is required.";

async fn sign_up_then_sign_in(app: TestApp) {
    let mut client = app.client();
    client.sign_up("Ann@Example.com", PASSWORD).await;
    client
        .get("/signin/")
        .await
        .assert_ok_with("Account is created. Now you can sign in.");
    // The flash shows once.
    client
        .get("/signin/")
        .await
        .assert_lacks("Account is created");
    // Emails are matched case-insensitively.
    client.sign_in("ann@example.COM", PASSWORD).await;
    let home = client.get("/").await;
    home.assert_ok_with("All notes (0)");
    home.assert_has("ann@example.com");
    home.assert_has("Create your first note.");
    home.assert_has("Sign out");
}

async fn sign_up_validation(app: TestApp) {
    let mut client = app.client();
    let page = client
        .post(
            "/signup/",
            &[("email", ""), ("password", ""), ("repeat_password", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches(REQUIRED).count(), 3, "{}", page.body);

    let page = client
        .post(
            "/signup/",
            &[
                ("email", "not-an-email"),
                ("password", "a"),
                ("repeat_password", "a"),
            ],
        )
        .await;
    page.assert_ok_with("Enter a valid email address.");
    assert_eq!(page.input_value("email").as_deref(), Some("not-an-email"));

    let page = client
        .post(
            "/signup/",
            &[
                ("email", "bob@example.com"),
                ("password", "one"),
                ("repeat_password", "two"),
            ],
        )
        .await;
    page.assert_ok_with("The passwords do not match.");
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("bob@example.com")
    );

    client.sign_up("bob@example.com", PASSWORD).await;
    let page = client
        .post(
            "/signup/",
            &[
                ("email", " BOB@example.com "),
                ("password", "x"),
                ("repeat_password", "x"),
            ],
        )
        .await;
    page.assert_ok_with("A user with this email already exists.");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

async fn sign_in_refuses_wrong_credentials(app: TestApp) {
    let mut client = app.client();
    client.sign_up("cat@example.com", PASSWORD).await;
    for (email, password) in [
        ("cat@example.com", "wrong"),
        ("nobody@example.com", PASSWORD),
        ("not an email\0", "x"),
    ] {
        let page = client
            .post("/signin/", &[("email", email), ("password", password)])
            .await;
        page.assert_ok_with("Wrong email or password");
        assert!(
            client.get("/").await.status.is_redirection(),
            "still anonymous"
        );
    }
    let page = client
        .post(
            "/signin/",
            &[("email", "cat@example.com"), ("password", "wrong")],
        )
        .await;
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("cat@example.com")
    );
    let page = client
        .post("/signin/", &[("email", ""), ("password", "")])
        .await;
    assert_eq!(page.body.matches(REQUIRED).count(), 2);
}

async fn anonymous_visitors_are_sent_to_sign_in_and_back(app: TestApp) {
    let mut owner = app.signed_in("dan@example.com").await;
    let pad = owner.create_pad("Work").await;
    let note = owner.create_note(&app, "Plan", "text", Some(pad)).await;

    let mut anonymous = app.client();
    let pages = [
        "/".to_owned(),
        "/settings/".to_owned(),
        "/notes/create/".to_owned(),
        format!("/notes/{note}/"),
        format!("/notes/{note}/edit/"),
        format!("/notes/{note}/delete/"),
        "/pads/create/".to_owned(),
        format!("/pads/{pad}/"),
        format!("/pads/{pad}/edit/"),
        format!("/pads/{pad}/delete/"),
    ];
    for page in &pages {
        let encoded: String = form_urlencoded::byte_serialize(page.as_bytes()).collect();
        anonymous
            .get(page)
            .await
            .assert_redirect(&format!("/signin/?next={encoded}"));
    }
    // Posting while anonymous changes nothing.
    anonymous
        .post(&format!("/notes/{note}/delete/"), &[])
        .await
        .assert_redirect(&format!("/signin/?next=%2Fnotes%2F{note}%2Fdelete%2F"));
    let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(notes, 1);

    // After signing in, the visitor lands where they were going, query included.
    let target = format!("/pads/{pad}/?order=name");
    let page = anonymous.get(&target).await;
    let signin_url = page.location().to_owned();
    let form = anonymous.get(&signin_url).await;
    form.assert_ok_with("action=\"/signin/?next=%2Fpads%2F");
    anonymous
        .post(
            &signin_url,
            &[("email", "dan@example.com"), ("password", PASSWORD)],
        )
        .await
        .assert_redirect(&target);
}

async fn next_never_leaves_the_site(app: TestApp) {
    let mut client = app.client();
    client.sign_up("eve@example.com", PASSWORD).await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        client
            .post(
                &format!("/signin/?next={encoded}"),
                &[("email", "eve@example.com"), ("password", PASSWORD)],
            )
            .await
            .assert_redirect("/");
        client.get("/signout/").await;
    }
}

async fn sign_out_ends_the_session(app: TestApp) {
    let mut client = app.signed_in("fay@example.com").await;
    let stolen = client.cookie().map(str::to_owned);
    client.get("/signout/").await.assert_redirect("/signin/");
    client.get("/").await.assert_redirect("/signin/?next=%2F");
    client.sign_in("fay@example.com", PASSWORD).await;
    client
        .post("/signout/", &[])
        .await
        .assert_redirect("/signin/");
    client.get("/").await.assert_redirect("/signin/?next=%2F");
    // The cookie from before sign-out was replaced, not reused.
    assert_ne!(client.cookie().map(str::to_owned), stolen);
}

/// A minimal SMTP server on loopback that keeps the DATA of each mail.
async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            sender.send(data.take().unwrap()).ok();
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, receiver)
}

async fn forgot_password_mails_a_new_password(
    app: TestApp,
    mut mails: tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let mut client = app.client();
    client.sign_up("gus@example.com", PASSWORD).await;

    let page = client
        .post("/forgot-password/", &[("email", "nobody@example.com")])
        .await;
    page.assert_ok_with("No user with given email found");
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("nobody@example.com")
    );
    client
        .post("/forgot-password/", &[("email", "")])
        .await
        .assert_ok_with(REQUIRED);
    client
        .post("/forgot-password/", &[("email", "gus@")])
        .await
        .assert_ok_with("Enter a valid email address.");

    client
        .post("/forgot-password/", &[("email", "GUS@example.com")])
        .await
        .assert_redirect("/signin/");
    client
        .get("/signin/")
        .await
        .assert_has("New password sent to your inbox");

    let mail = mails.recv().await.expect("a mail was sent");
    assert!(mail.contains("gus@example.com"), "{mail}");
    let new_password = mail
        .split("your new Notejam password is: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the password is in the mail")
        .to_owned();
    assert_eq!(new_password.len(), 16);

    let page = client
        .post(
            "/signin/",
            &[("email", "gus@example.com"), ("password", PASSWORD)],
        )
        .await;
    page.assert_ok_with("Wrong email or password");
    client.sign_in("gus@example.com", &new_password).await;
}

async fn forgot_password_over_smtp_sqlite() {
    let (port, mails) = smtp_sink().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::sqlite_with(&[
        ("NOTEJAM_SMTP_URL", &url),
        ("NOTEJAM_MAIL_FROM", "notejam@example.com"),
    ])
    .await;
    forgot_password_mails_a_new_password(app, mails).await;
}

async fn forgot_password_over_smtp_postgres() {
    let (port, mails) = smtp_sink().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::postgres_with(&[
        ("NOTEJAM_SMTP_URL", &url),
        ("NOTEJAM_MAIL_FROM", "notejam@example.com"),
    ])
    .await;
    forgot_password_mails_a_new_password(app, mails).await;
}

#[tokio::test]
async fn forgot_password_sends_mail_over_smtp_on_sqlite() {
    forgot_password_over_smtp_sqlite().await;
}

#[tokio::test]
async fn forgot_password_sends_mail_over_smtp_on_postgres() {
    forgot_password_over_smtp_postgres().await;
}

#[tokio::test]
async fn forgot_password_keeps_the_old_password_when_the_mail_fails() {
    // Nothing listens on this port: the SMTP connection is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::sqlite_with(&[
        ("NOTEJAM_SMTP_URL", &url),
        ("NOTEJAM_MAIL_FROM", "notejam@example.com"),
    ])
    .await;
    let mut client = app.client();
    client.sign_up("hal@example.com", PASSWORD).await;
    let page = client
        .post("/forgot-password/", &[("email", "hal@example.com")])
        .await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    page.assert_has("could not be sent");
    client.sign_in("hal@example.com", PASSWORD).await;
}

async fn forgot_password_without_smtp_logs_the_mail(app: TestApp) {
    let mut signed_in = app.signed_in("ida@example.com").await;
    signed_in.get("/").await.assert_ok_with("All notes (0)");
    let mut client = app.client();
    client
        .post("/forgot-password/", &[("email", "ida@example.com")])
        .await
        .assert_redirect("/signin/");
    // The password did change (the new one went to the log).
    client
        .post(
            "/signin/",
            &[("email", "ida@example.com"), ("password", PASSWORD)],
        )
        .await
        .assert_ok_with("Wrong email or password");
}

async fn settings_change_the_password(app: TestApp) {
    let mut client = app.signed_in("jay@example.com").await;
    client
        .get("/settings/")
        .await
        .assert_ok_with("Account settings");

    let page = client
        .post(
            "/settings/",
            &[
                ("old_password", ""),
                ("new_password", ""),
                ("repeat_new_password", ""),
            ],
        )
        .await;
    assert_eq!(page.body.matches(REQUIRED).count(), 3);
    client
        .post(
            "/settings/",
            &[
                ("old_password", "nope"),
                ("new_password", "n1"),
                ("repeat_new_password", "n1"),
            ],
        )
        .await
        .assert_ok_with("The current password is incorrect.");
    client
        .post(
            "/settings/",
            &[
                ("old_password", PASSWORD),
                ("new_password", "n1"),
                ("repeat_new_password", "n2"),
            ],
        )
        .await
        .assert_ok_with("The passwords do not match.");
    client
        .post(
            "/settings/",
            &[
                ("old_password", PASSWORD),
                ("new_password", "n1"),
                ("repeat_new_password", "n1"),
            ],
        )
        .await
        .assert_redirect("/");
    client
        .get("/")
        .await
        .assert_has("Password is successfully changed");

    client.get("/signout/").await;
    client
        .post(
            "/signin/",
            &[("email", "jay@example.com"), ("password", PASSWORD)],
        )
        .await
        .assert_ok_with("Wrong email or password");
    client.sign_in("jay@example.com", "n1").await;
}

on_both_backends!(
    sign_up_then_sign_in,
    sign_up_validation,
    sign_in_refuses_wrong_credentials,
    anonymous_visitors_are_sent_to_sign_in_and_back,
    next_never_leaves_the_site,
    sign_out_ends_the_session,
    forgot_password_without_smtp_logs_the_mail,
    settings_change_the_password,
);
