//! Page templates (askama, compiled in, HTML-escaped by default) and the values they show.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::content::{ListedNote, Order, PageKey, UserContent};
use crate::db::notes::Note;
use crate::db::pads::Pad;
use crate::session::{CurrentUser, Flash};
use crate::web::forms::Errors;

/// What every page shows around its content.
pub struct Layout {
    pub title: String,
    pub user_email: Option<String>,
    /// The "My pads" sidebar; `None` on the sign-in-like pages that have none.
    pub sidebar: Option<Arc<UserContent>>,
    pub current_pad: Option<i64>,
    pub flash: Option<Flash>,
    pub csrf: String,
}

impl Layout {
    /// A page of a signed-in user, with the sidebar.
    pub fn user(
        user: &CurrentUser,
        title: impl Into<String>,
        content: &Arc<UserContent>,
    ) -> Layout {
        Layout::user_showing(user, title, content, user.session.take_flash())
    }

    /// The same, with the flash message the caller already took from the session.
    pub fn user_showing(
        user: &CurrentUser,
        title: impl Into<String>,
        content: &Arc<UserContent>,
        flash: Option<Flash>,
    ) -> Layout {
        Layout {
            title: title.into(),
            user_email: Some(user.email.clone()),
            sidebar: Some(content.clone()),
            current_pad: None,
            flash,
            csrf: user.session.csrf_token(),
        }
    }

    /// A page without the sidebar (sign in, sign up, errors).
    pub fn plain(
        title: impl Into<String>,
        user_email: Option<String>,
        flash: Option<Flash>,
        csrf: String,
    ) -> Layout {
        Layout {
            title: title.into(),
            user_email,
            sidebar: None,
            current_pad: None,
            flash,
            csrf,
        }
    }

    pub fn with_current_pad(mut self, pad_id: i64) -> Layout {
        self.current_pad = Some(pad_id);
        self
    }

    fn is_current(&self, pad_id: &i64) -> bool {
        self.current_pad == Some(*pad_id)
    }
}

/// Renders a template into a response; a template that fails to render is a 500.
pub fn render(template: &impl Template) -> Response {
    render_with_status(StatusCode::OK, template)
}

pub fn render_with_status(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => template_failed(error),
    }
}

fn template_failed(error: askama::Error) -> Response {
    tracing::error!(%error, "template failed to render");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub layout: Layout,
    pub email: String,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SigninPage {
    pub layout: Layout,
    pub email: String,
    /// The form posts back to the same URL, keeping `?next=`.
    pub action: String,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage {
    pub layout: Layout,
    pub email: String,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub errors: Errors,
}

#[derive(Template)]
#[template(path = "notes_list.html")]
pub struct NotesListPage<'a> {
    pub layout: Layout,
    pub notes: Vec<&'a ListedNote>,
    pub clock: DayClock,
    /// Set on a pad's page: its New note and Pad settings links.
    pub pad: Option<Pad>,
    pub order: Order,
    /// This page's path, for the sort links.
    pub base: String,
}

/// The all-notes page (`pad` is `None`) or a pad's page, in `order`.
///
/// A page with no flash message to show depends only on the user's content, the order,
/// the day and the session's address, so it is sent as rendered before when those
/// match; a flash message is shown once and never kept.
pub fn notes_list(
    user: &CurrentUser,
    content: &Arc<UserContent>,
    pad: Option<Pad>,
    order: Order,
) -> Response {
    let clock = DayClock::now();
    let flash = user.session.take_flash();
    let key = flash.is_none().then(|| PageKey {
        order,
        pad_id: pad.as_ref().map(|pad| pad.id),
        day_start_ms: clock.today_start_ms,
        email: user.email.clone(),
    });
    if let Some(html) = key.as_ref().and_then(|key| content.page(key)) {
        return Html(html).into_response();
    }
    let notes = content.notes(order, pad.as_ref().map(|pad| pad.id));
    let (title, base) = match &pad {
        Some(pad) => (
            format!("{} ({})", pad.name, notes.len()),
            format!("/pads/{}/", pad.id),
        ),
        None => (format!("All notes ({})", notes.len()), "/".to_owned()),
    };
    let mut layout = Layout::user_showing(user, title, content, flash);
    if let Some(pad) = &pad {
        layout = layout.with_current_pad(pad.id);
    }
    let page = NotesListPage {
        layout,
        notes,
        clock,
        pad,
        order,
        base,
    };
    match (page.render(), key) {
        (Ok(html), Some(key)) => {
            let html = Bytes::from(html);
            content.keep_page(key, html.clone());
            Html(html).into_response()
        }
        (Ok(html), None) => Html(html).into_response(),
        (Err(error), _) => template_failed(error),
    }
}

impl NotesListPage<'_> {
    fn sort_link(&self, order: &str) -> String {
        format!("{}?order={order}", self.base)
    }

    fn is_order(&self, order: &str) -> bool {
        self.order.as_param() == order
    }
}

#[derive(Template)]
#[template(path = "note.html")]
pub struct NotePage {
    pub layout: Layout,
    pub note: Note,
    pub updated: String,
}

/// The pad select of the note form.
pub struct PadChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "note_form.html")]
pub struct NoteFormPage {
    pub layout: Layout,
    pub action: String,
    pub submit: &'static str,
    pub name: String,
    pub text: String,
    pub pad_choices: Vec<PadChoice>,
    pub no_pad_selected: bool,
    pub errors: Errors,
    /// Where Cancel goes.
    pub back: String,
}

#[derive(Template)]
#[template(path = "note_delete.html")]
pub struct NoteDeletePage {
    pub layout: Layout,
    pub note: Note,
}

#[derive(Template)]
#[template(path = "pad_form.html")]
pub struct PadFormPage {
    pub layout: Layout,
    pub action: String,
    pub submit: &'static str,
    pub name: String,
    pub errors: Errors,
    /// Set when editing: the Delete pad link.
    pub pad_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "pad_delete.html")]
pub struct PadDeletePage {
    pub layout: Layout,
    pub pad: Pad,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub message: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Shows times as "Today at 14:05", "Yesterday at 09:30", else "3 Mar 2024" (UTC),
/// relative to the day it was made on: one per page, not one per row.
#[derive(Clone, Copy, Debug)]
pub struct DayClock {
    today_start_ms: i64,
}

impl DayClock {
    pub fn at(now_ms: i64) -> DayClock {
        DayClock {
            today_start_ms: now_ms - now_ms.rem_euclid(DAY_MS),
        }
    }

    pub fn now() -> DayClock {
        DayClock::at(crate::db::now_millis())
    }

    pub fn show(&self, ms: i64) -> When {
        When {
            ms,
            today_start_ms: self.today_start_ms,
        }
    }
}

/// A time as the lists show it, written straight into the page.
pub struct When {
    ms: i64,
    today_start_ms: i64,
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let today = self.today_start_ms;
        let day = if (today..today + DAY_MS).contains(&self.ms) {
            "Today at "
        } else if (today - DAY_MS..today).contains(&self.ms) {
            "Yesterday at "
        } else {
            let date =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.ms) * 1_000_000)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            return write!(
                f,
                "{} {} {}",
                date.day(),
                MONTHS[usize::from(u8::from(date.month())) - 1],
                date.year()
            );
        };
        // Hundreds of these per page: digits by hand rather than through format_args.
        let minutes = self.ms.rem_euclid(DAY_MS) / 60_000;
        let (hour, minute) = ((minutes / 60) as u8, (minutes % 60) as u8);
        let clock = [
            b'0' + hour / 10,
            b'0' + hour % 10,
            b':',
            b'0' + minute / 10,
            b'0' + minute % 10,
        ];
        f.write_str(day)?;
        f.write_str(std::str::from_utf8(&clock).map_err(|_| std::fmt::Error)?)
    }
}

pub fn human_time(ms: i64, now_ms: i64) -> String {
    DayClock::at(now_ms).show(ms).to_string()
}

#[cfg(test)]
mod tests {
    use super::human_time;

    const DAY: i64 = 24 * 3600 * 1000;
    // 2024-03-10 12:00:00 UTC
    const NOON: i64 = 1_710_072_000_000;

    #[test]
    fn times_read_today_yesterday_or_a_date() {
        assert_eq!(
            human_time(NOON - 3_600_000 + 5 * 60_000, NOON),
            "Today at 11:05"
        );
        assert_eq!(human_time(NOON - DAY, NOON), "Yesterday at 12:00");
        assert_eq!(human_time(NOON - 2 * DAY, NOON), "8 Mar 2024");
        assert_eq!(
            human_time(NOON - 13 * 3_600_000, NOON),
            "Yesterday at 23:00"
        );
    }
}
