//! Page templates (askama, compiled in, HTML-escaped by default) and the values they show.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::db::notes::{Note, NoteSummary, Order};
use crate::db::pads::Pad;
use crate::session::{CurrentUser, Flash};
use crate::web::forms::Errors;

/// What every page shows around its content.
pub struct Layout {
    pub title: String,
    pub user_email: Option<String>,
    /// The "My pads" sidebar; `None` on the sign-in-like pages that have none.
    pub pads: Option<Vec<Pad>>,
    pub current_pad: Option<i64>,
    pub flash: Option<Flash>,
    pub csrf: String,
}

impl Layout {
    /// A page of a signed-in user, with the sidebar.
    pub fn user(user: &CurrentUser, title: impl Into<String>, pads: Vec<Pad>) -> Layout {
        Layout {
            title: title.into(),
            user_email: Some(user.email.clone()),
            pads: Some(pads),
            current_pad: None,
            flash: user.session.take_flash(),
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
            pads: None,
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
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
    }
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

/// A note as a row of a list.
pub struct NoteRow {
    pub id: i64,
    pub name: String,
    pub pad_id: Option<i64>,
    pub pad_name: String,
    pub updated: String,
}

impl NoteRow {
    pub fn new(note: NoteSummary, now_ms: i64) -> NoteRow {
        NoteRow {
            id: note.id,
            name: note.name,
            pad_id: note.pad_id,
            pad_name: note.pad_name.unwrap_or_default(),
            updated: human_time(note.updated_at, now_ms),
        }
    }
}

#[derive(Template)]
#[template(path = "notes_list.html")]
pub struct NotesListPage {
    pub layout: Layout,
    pub notes: Vec<NoteRow>,
    /// Set on a pad's page: its New note and Pad settings links.
    pub pad: Option<Pad>,
    pub order: Order,
    /// This page's path, for the sort links.
    pub base: String,
}

impl NotesListPage {
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

/// "Today at 14:05", "Yesterday at 09:30", else "3 Mar 2024" (UTC).
pub fn human_time(ms: i64, now_ms: i64) -> String {
    let at = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    let (then, now) = (at(ms), at(now_ms));
    let clock = format!("{:02}:{:02}", then.hour(), then.minute());
    if then.date() == now.date() {
        format!("Today at {clock}")
    } else if Some(then.date()) == now.date().previous_day() {
        format!("Yesterday at {clock}")
    } else {
        format!(
            "{} {} {}",
            then.day(),
            MONTHS[usize::from(u8::from(then.month())) - 1],
            then.year()
        )
    }
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
