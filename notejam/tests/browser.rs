//! The app in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! chromedriver. One journey through the pages a user clicks, without JavaScript
//! on our side (the pages have none).

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_app(dir: &Path) -> String {
    let env: HashMap<&str, String> = HashMap::from([
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("browser.db").display()),
        ),
        ("NOTEJAM_METRICS", "off".to_owned()),
        ("NOTEJAM_SECRET_KEY", "b".repeat(48)),
    ]);
    let config = notejam::config::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let (router, _state) = notejam::build(&config).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn start_browser(profile: &Path) -> (Driver, Client) {
    for binary in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: the browser tests need Debian's chromium and chromium-driver \
             packages (scripts/setup-test-deps installs them)"
        );
    }
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1200,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&webdriver)
            .await
        {
            Ok(client) => return (driver, client),
            Err(error) if Instant::now() > deadline => panic!("no WebDriver session: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The page's text; empty while a navigation is under way (the callers retry).
async fn body_text(browser: &Client) -> String {
    match browser.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Pages load after a click returns: these wait (up to 10 s) for what should show.
const PATIENCE: Duration = Duration::from_secs(10);

async fn see(browser: &Client, wanted: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = body_text(browser).await;
        if text.contains(wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "page lacks {wanted:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn at(browser: &Client, wanted: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let here = path(browser).await;
        if here == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "at {here}, expected {wanted}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn notes_listed(browser: &Client, wanted: &[&str]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let names = note_names(browser).await;
        if names == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "notes listed {names:?}, expected {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The element, once the page that has it has loaded.
async fn find(browser: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match browser.find(locator).await {
            Ok(element) => return element,
            Err(error) if Instant::now() > deadline => panic!("no element {locator:?}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn click_link(browser: &Client, text: &str) {
    find(browser, Locator::LinkText(text))
        .await
        .click()
        .await
        .unwrap();
}

async fn click_css(browser: &Client, css: &str) {
    find(browser, Locator::Css(css))
        .await
        .click()
        .await
        .unwrap();
}

async fn fill(browser: &Client, fields: &[(&str, &str)]) {
    for (id, value) in fields {
        let input = find(browser, Locator::Id(id)).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
}

async fn submit(browser: &Client) {
    find(browser, Locator::Css("main form button[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
}

async fn path(browser: &Client) -> String {
    let url = browser.current_url().await.unwrap();
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

async fn note_names(browser: &Client) -> Vec<String> {
    let mut names = Vec::new();
    let cells = browser
        .find_all(Locator::Css("table.notes tbody tr td:first-child a"))
        .await
        .unwrap_or_default();
    for cell in cells {
        // A cell of the page being left is stale: report nothing, the caller retries.
        match cell.text().await {
            Ok(name) => names.push(name),
            Err(_) => return Vec::new(),
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_keeps_notes_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let base = start_app(dir.path()).await;
    let (_driver, browser) = start_browser(&dir.path().join("profile")).await;
    let journey_browser = browser.clone();
    let journey = tokio::spawn(async move {
        let browser = journey_browser;
        // Anonymous: sent to sign in.
        browser.goto(&format!("{base}/")).await.unwrap();
        at(&browser, "/signin/?next=%2F").await;

        // Sign up, with one mistake first.
        click_link(&browser, "Sign up").await;
        fill(
            &browser,
            &[
                ("email", "web@example.com"),
                ("password", "pw-1"),
                ("repeat_password", "pw-2"),
            ],
        )
        .await;
        submit(&browser).await;
        see(&browser, "The passwords do not match.").await;
        fill(
            &browser,
            &[("password", "pw-1"), ("repeat_password", "pw-1")],
        )
        .await;
        submit(&browser).await;
        at(&browser, "/signin/").await;
        see(&browser, "Account is created. Now you can sign in.").await;

        // Sign in.
        fill(
            &browser,
            &[("email", "web@example.com"), ("password", "pw-1")],
        )
        .await;
        submit(&browser).await;
        at(&browser, "/").await;
        see(&browser, "All notes (0)").await;
        see(&browser, "Create your first note.").await;

        // A pad from the sidebar.
        click_link(&browser, "New pad").await;
        fill(&browser, &[("name", "Travel")]).await;
        submit(&browser).await;
        see(&browser, "Pad is successfully created").await;
        see(&browser, "Travel (0)").await;

        // Notes in the pad, from the pad's New note link (which preselects the pad).
        for (name, text) in [
            ("Zanzibar", "Beaches"),
            ("Amsterdam", "Canals\nand bikes"),
            ("Lisbon", "Trams"),
        ] {
            click_link(&browser, "New note").await;
            fill(&browser, &[("name", name), ("text", text)]).await;
            submit(&browser).await;
            see(&browser, "Note is successfully created").await;
        }
        see(&browser, "Travel (3)").await;
        notes_listed(&browser, &["Lisbon", "Amsterdam", "Zanzibar"]).await;

        // Sort by name both ways, then oldest first.
        click_css(&browser, "a[title='Sort by name, A to Z']").await;
        notes_listed(&browser, &["Amsterdam", "Lisbon", "Zanzibar"]).await;
        click_css(&browser, "a[title='Sort by name, Z to A']").await;
        notes_listed(&browser, &["Zanzibar", "Lisbon", "Amsterdam"]).await;
        click_css(&browser, "a[title='Oldest first']").await;
        notes_listed(&browser, &["Zanzibar", "Amsterdam", "Lisbon"]).await;

        // Open, edit and view a note.
        click_link(&browser, "Amsterdam").await;
        see(&browser, "Canals\nand bikes").await;
        click_link(&browser, "Edit").await;
        fill(&browser, &[("name", "Amsterdam in May")]).await;
        submit(&browser).await;
        see(&browser, "Note is successfully updated").await;
        see(&browser, "notejam: Amsterdam in May").await;
        see(&browser, "Last edited Today at").await;

        // The edited note is now the most recent on the all-notes page.
        click_css(&browser, "a.brand").await;
        see(&browser, "All notes (3)").await;
        notes_listed(&browser, &["Amsterdam in May", "Lisbon", "Zanzibar"]).await;
        // For looking at the page by eye: NOTEJAM_SCREENSHOT=/path/to/file.png
        if let Ok(file) = std::env::var("NOTEJAM_SCREENSHOT") {
            std::fs::write(file, browser.screenshot().await.unwrap()).unwrap();
        }

        // Delete a note through its confirmation page.
        click_link(&browser, "Zanzibar").await;
        click_link(&browser, "Delete it").await;
        see(&browser, "Are you sure you want to delete Zanzibar?").await;
        submit(&browser).await;
        at(&browser, "/pads/1/").await;
        see(&browser, "Note is successfully deleted").await;
        see(&browser, "Travel (2)").await;

        // Delete the pad, and its notes with it.
        click_link(&browser, "Pad settings").await;
        click_link(&browser, "Delete pad").await;
        submit(&browser).await;
        at(&browser, "/").await;
        see(&browser, "Pad is successfully deleted").await;
        see(&browser, "All notes (0)").await;

        // Sign out.
        click_link(&browser, "Sign out").await;
        at(&browser, "/signin/").await;
        browser.goto(&format!("{base}/settings/")).await.unwrap();
        at(&browser, "/signin/?next=%2Fsettings%2F").await;
    });
    // Close the session even when the journey fails, so no browser is left behind.
    let outcome = tokio::time::timeout(Duration::from_secs(120), journey).await;
    browser.close().await.ok();
    match outcome {
        Err(_) => panic!("the browser journey took over 120 s"),
        Ok(Err(failure)) => std::panic::resume_unwind(failure.into_panic()),
        Ok(Ok(())) => {}
    }
}
