//! Notejam's hot paths as instruction-count scenarios (see `perf/probe`): the
//! router itself, driven in-process with real requests on a SQLite database, the
//! server's allocator and its log format (into a sink), so a count is the cost of
//! the code that ships and nothing of a network or a terminal.
//!
//! `cargo bench -p notejam --bench instructions -- check` runs each natively.

use std::collections::HashMap;
use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use perf_probe::{Scenario, Step};
use tokio::runtime::Runtime;
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMAIL: &str = "probe@example.com";
const PASSWORD: &str = "probe-password-1";
/// The all-notes page of the issue: a user with 100 notes over 5 pads.
const NOTES: usize = 100;
const PADS: usize = 5;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "notejam/all_notes",
        about: "GET / of a user with 100 notes, as served again (the kept page)",
        iterations: 40,
        setup: all_notes,
    },
    Scenario {
        name: "notejam/all_notes_rendered",
        about: "GET / of a user with 100 notes, read and rendered every time (cache off)",
        iterations: 20,
        setup: all_notes_rendered,
    },
    Scenario {
        name: "notejam/note_page",
        about: "GET /notes/<id>/ over the user's 100 notes",
        iterations: 40,
        setup: note_page,
    },
    Scenario {
        name: "notejam/create_note",
        about: "POST /notes/create/ into a pad (CSRF, validation, insert, 303)",
        iterations: 20,
        setup: create_note,
    },
    Scenario {
        name: "notejam/sign_in",
        about: "POST /signin/ with the right password (argon2id verify, new session)",
        iterations: 2,
        setup: sign_in,
    },
];

fn main() -> ExitCode {
    // The server's JSON lines, formatted in full, written nowhere.
    notejam::telemetry::init_logging_to(std::io::sink);
    perf_probe::main(SCENARIOS)
}

/// A notejam on a fresh SQLite file, with a signed-in user holding the notes.
struct World {
    rt: Runtime,
    router: Router,
    /// The signed-in session; never replaced, so every step sends the same one.
    cookie: String,
    csrf: String,
    note_ids: Vec<i64>,
    pad_ids: Vec<i64>,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    location: String,
    cookie: Option<String>,
    body: String,
}

impl World {
    fn new(vars: &[(&str, &str)]) -> Result<World, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let url = format!("sqlite://{}", dir.path().join("notejam.db").display());
        let mut env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", url),
            ("NOTEJAM_SECRET_KEY", "p".repeat(64)),
            ("NOTEJAM_ENV", "probe".to_owned()),
            // One connection: requests come one at a time, and with several the one a
            // query lands on (and whether it has the statement prepared yet) would
            // follow the threads' timing.
            ("NOTEJAM_DB_MAX_CONNECTIONS", "1".to_owned()),
        ]);
        for (name, value) in vars {
            env.insert(name, value.to_string());
        }
        let config = notejam::config::Config::from_lookup(|name| env.get(name).cloned())
            .map_err(|e| e.to_string())?;
        // One thread: the requests' own work happens in the same order every run.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        let (router, _state) = rt
            .block_on(notejam::build(&config))
            .map_err(|e| e.to_string())?;
        let mut world = World {
            rt,
            router,
            cookie: String::new(),
            csrf: String::new(),
            note_ids: Vec::new(),
            pad_ids: Vec::new(),
            _dir: dir,
        };
        world.sign_up_and_in()?;
        Ok(world)
    }

    fn send(&self, method: Method, uri: &str, cookie: &str, form: Option<String>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form)
            }
            None => Body::empty(),
        };
        let request = request.body(body).expect("a well-formed request");
        self.rt.block_on(perf_probe::counting_suspensions(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = response.status();
            let header_text = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let location = header_text(header::LOCATION).unwrap_or_default();
            let cookie = header_text(header::SET_COOKIE)
                .and_then(|c| c.split(';').next().map(str::to_owned));
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Reply {
                status,
                location,
                cookie,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        }))
    }

    fn get(&self, uri: &str) -> Reply {
        self.send(Method::GET, uri, &self.cookie, None)
    }

    fn post(&self, uri: &str, fields: &[(&str, &str)]) -> Reply {
        self.send(
            Method::POST,
            uri,
            &self.cookie,
            Some(form(fields, &self.csrf)),
        )
    }

    /// The anonymous session's cookie and the CSRF token of its forms.
    fn anonymous_session(&self) -> Result<(String, String), String> {
        let page = self.send(Method::GET, "/signin/", "", None);
        let cookie = page
            .cookie
            .ok_or("the sign-in form set no session cookie")?;
        let csrf = csrf_in(&page.body).ok_or("no CSRF token on the sign-in form")?;
        Ok((cookie, csrf))
    }

    fn sign_up_and_in(&mut self) -> Result<(), String> {
        let (cookie, csrf) = self.anonymous_session()?;
        let fields = [
            ("email", EMAIL),
            ("password", PASSWORD),
            ("repeat_password", PASSWORD),
        ];
        let signed_up = self.send(
            Method::POST,
            "/signup/",
            &cookie,
            Some(form(&fields, &csrf)),
        );
        expect_redirect(&signed_up, "/signin/", "sign-up")?;
        let fields = [("email", EMAIL), ("password", PASSWORD)];
        let signed_in = self.send(
            Method::POST,
            "/signin/",
            &cookie,
            Some(form(&fields, &csrf)),
        );
        expect_redirect(&signed_in, "/", "sign-in")?;
        self.cookie = signed_in.cookie.ok_or("sign-in set no session cookie")?;
        let home = self.get("/");
        self.csrf = csrf_in(&home.body)
            .or_else(|| csrf_in(&self.get("/pads/create/").body))
            .ok_or("no CSRF token in the signed-in session's forms")?;
        Ok(())
    }

    fn with_notes(mut self) -> Result<World, String> {
        for p in 0..PADS {
            let reply = self.post("/pads/create/", &[("name", &format!("Pad {p}"))]);
            let id = id_after(&reply, "/pads/").ok_or(format!(
                "pad not created: {} {}",
                reply.status, reply.location
            ))?;
            self.pad_ids.push(id);
        }
        for n in 0..NOTES {
            let pad = self.pad_ids[n % PADS].to_string();
            // Texts of one length: every note page is the same amount of work.
            let text = format!("Note {n:03}: {}", "lorem ipsum dolor sit amet ".repeat(8));
            let reply = self.post(
                "/notes/create/",
                &[
                    ("name", &format!("Note {n:03}")),
                    ("text", &text),
                    ("pad", &pad),
                ],
            );
            if reply.status != StatusCode::SEE_OTHER {
                return Err(format!("note {n} not created: {}", reply.status));
            }
        }
        let list = self.get("/");
        self.note_ids = list
            .body
            .split("<td><a href=\"/notes/")
            .skip(1)
            .filter_map(|rest| rest.split('/').next()?.parse().ok())
            .collect();
        if self.note_ids.len() != NOTES {
            return Err(format!(
                "the all-notes page lists {} notes, expected {NOTES}",
                self.note_ids.len()
            ));
        }
        Ok(self)
    }
}

fn form(fields: &[(&str, &str)], csrf: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .append_pair("csrf_token", csrf)
        .finish()
}

fn csrf_in(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

fn id_after(reply: &Reply, prefix: &str) -> Option<i64> {
    reply
        .location
        .strip_prefix(prefix)?
        .trim_end_matches('/')
        .parse()
        .ok()
}

fn expect_redirect(reply: &Reply, to: &str, what: &str) -> Result<(), String> {
    if reply.status.is_redirection() && reply.location == to {
        Ok(())
    } else {
        Err(format!(
            "{what} answered {} to {:?}, expected a redirect to {to}",
            reply.status, reply.location
        ))
    }
}

/// What a page step reports: its status, and that the page holds what it must.
fn page_outcome(reply: &Reply, must_hold: &str) -> Result<String, String> {
    if reply.status != StatusCode::OK {
        return Err(format!("answered {}", reply.status));
    }
    if !reply.body.contains(must_hold) {
        return Err(format!("the page lacks {must_hold:?}"));
    }
    Ok(format!("200 with {must_hold:?}"))
}

fn list_step(world: World) -> Step {
    Box::new(move || {
        let page = world.get("/");
        let listed = page.body.matches("<td><a href=\"/notes/").count();
        if listed != NOTES {
            return Err(format!("listed {listed} notes"));
        }
        page_outcome(&page, "Note 099")
    })
}

fn all_notes(_iterations: u32) -> Result<Step, String> {
    Ok(list_step(World::new(&[])?.with_notes()?))
}

fn all_notes_rendered(_iterations: u32) -> Result<Step, String> {
    Ok(list_step(
        World::new(&[("NOTEJAM_CACHE_USERS", "0")])?.with_notes()?,
    ))
}

fn note_page(_iterations: u32) -> Result<Step, String> {
    let world = World::new(&[])?.with_notes()?;
    let mut next = 0;
    Ok(Box::new(move || {
        let id = world.note_ids[next % world.note_ids.len()];
        next += 1;
        page_outcome(&world.get(&format!("/notes/{id}/")), "lorem ipsum")
    }))
}

fn create_note(_iterations: u32) -> Result<Step, String> {
    let world = World::new(&[])?.with_notes()?;
    let pad = world.pad_ids[0].to_string();
    let text = "A new note's text, ".repeat(10);
    let home = format!("/pads/{pad}/");
    Ok(Box::new(move || {
        let reply = world.post(
            "/notes/create/",
            &[("name", "A new note"), ("text", &text), ("pad", &pad)],
        );
        if reply.status != StatusCode::SEE_OTHER || reply.location != home {
            return Err(format!("answered {} to {:?}", reply.status, reply.location));
        }
        Ok(format!("303 to {home}"))
    }))
}

fn sign_in(_iterations: u32) -> Result<Step, String> {
    let world = World::new(&[])?;
    let (cookie, csrf) = world.anonymous_session()?;
    let body = form(&[("email", EMAIL), ("password", PASSWORD)], &csrf);
    Ok(Box::new(move || {
        let reply = world.send(Method::POST, "/signin/", &cookie, Some(body.clone()));
        expect_redirect(&reply, "/", "sign-in")?;
        reply.cookie.ok_or("no session cookie")?;
        Ok("303 to / with a session".to_owned())
    }))
}
