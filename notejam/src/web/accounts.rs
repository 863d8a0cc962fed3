//! Sign up, sign in, sign out, forgot password, account settings.

use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tokio::sync::OnceCell;

use super::errors::AppError;
use super::forms::{
    self, Errors, ForgotPasswordForm, SettingsForm, SigninForm, SignupForm, normalize_email,
};
use super::views::{
    ForgotPasswordPage, Layout, SettingsPage, SigninPage, SignupPage, render, render_with_status,
};
use super::{AppState, query_param};
use crate::db::is_unique_violation;
use crate::password;
use crate::session::{CurrentUser, Session, SessionUser};

fn plain_layout(session: &Session, title: &str) -> Layout {
    Layout::plain(
        title,
        session.user().map(|user| user.email),
        session.take_flash(),
        session.csrf_token(),
    )
}

pub async fn signup_form(session: Session) -> Response {
    render(&SignupPage {
        layout: plain_layout(&session, "Sign up"),
        email: String::new(),
        errors: Errors::default(),
    })
}

pub async fn signup(
    State(app): State<AppState>,
    session: Session,
    Form(form): Form<SignupForm>,
) -> Result<Response, AppError> {
    let mut errors = form.validate();
    let email = normalize_email(&form.email);
    if errors.is_empty() && app.db.user_by_email(&email).await?.is_some() {
        errors.add("email", forms::EMAIL_TAKEN);
    }
    if errors.is_empty() {
        let hash = password::hash(&form.password).await?;
        match app.db.create_user(&email, &hash).await {
            Ok(_) => {
                tracing::info!("account created");
                session.flash("Account is created. Now you can sign in.");
                return Ok(Redirect::to("/signin/").into_response());
            }
            // Two sign-ups with one email at once: the unique index decides.
            Err(error) if is_unique_violation(&error) => errors.add("email", forms::EMAIL_TAKEN),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(render(&SignupPage {
        layout: plain_layout(&session, "Sign up"),
        email: form.email,
        errors,
    }))
}

/// `next` is honoured only when it is a path on this site: never another host
/// (`//evil.example`, `/\evil.example`, `https://…`), and only header-safe characters.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic());
    local.then_some(next)
}

fn signin_action(next: Option<&str>) -> String {
    match safe_next(next) {
        Some(next) => {
            let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            format!("/signin/?next={encoded}")
        }
        None => "/signin/".to_owned(),
    }
}

pub async fn signin_form(session: Session, RawQuery(query): RawQuery) -> Response {
    let next = query_param(query.as_deref(), "next");
    render(&SigninPage {
        layout: plain_layout(&session, "Sign in"),
        email: String::new(),
        action: signin_action(next.as_deref()),
        errors: Errors::default(),
    })
}

/// A hash to verify against when the email is unknown, so that a wrong email takes
/// as long as a wrong password and timing does not tell which emails have accounts.
async fn decoy_hash() -> Result<&'static str, AppError> {
    static DECOY: OnceCell<String> = OnceCell::const_new();
    let hash = DECOY
        .get_or_try_init(|| async { password::hash(&password::generate()).await })
        .await?;
    Ok(hash.as_str())
}

pub async fn signin(
    State(app): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
    Form(form): Form<SigninForm>,
) -> Result<Response, AppError> {
    let next = query_param(query.as_deref(), "next");
    let mut errors = form.validate();
    if errors.is_empty() {
        let email = normalize_email(&form.email);
        // Text that cannot be an address (a NUL byte, say) is never sent to the database.
        let user = if forms::is_valid_email(&email) {
            app.db.user_by_email(&email).await?
        } else {
            None
        };
        match user {
            Some(user) if password::verify(&form.password, &user.password_hash).await? => {
                tracing::info!(user_id = user.id, "signed in");
                session.sign_in(SessionUser {
                    id: user.id,
                    email: user.email,
                    epoch: user.session_epoch,
                });
                let target = safe_next(next.as_deref()).unwrap_or("/");
                return Ok(Redirect::to(target).into_response());
            }
            Some(_) => {}
            None => {
                password::verify(&form.password, decoy_hash().await?).await?;
            }
        }
        errors.add("__all__", forms::WRONG_CREDENTIALS);
    }
    Ok(render(&SigninPage {
        layout: plain_layout(&session, "Sign in"),
        email: form.email,
        action: signin_action(next.as_deref()),
        errors,
    }))
}

pub async fn signout(session: Session) -> Response {
    session.sign_out();
    Redirect::to("/signin/").into_response()
}

pub async fn forgot_password_form(session: Session) -> Response {
    render(&ForgotPasswordPage {
        layout: plain_layout(&session, "Forgot password?"),
        email: String::new(),
        errors: Errors::default(),
    })
}

pub async fn forgot_password(
    State(app): State<AppState>,
    session: Session,
    Form(form): Form<ForgotPasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = form.validate();
    let mut status = StatusCode::OK;
    if errors.is_empty() {
        match app.db.user_by_email(&normalize_email(&form.email)).await? {
            None => errors.add("email", forms::UNKNOWN_EMAIL),
            Some(user) => {
                let new_password = password::generate();
                let hash = password::hash(&new_password).await?;
                // Mail first: if it cannot be sent, the old password keeps working.
                match app
                    .mailer
                    .send_new_password(&user.email, &new_password)
                    .await
                {
                    Ok(()) => {
                        // Ends the account's sessions: whoever asked may not be its owner.
                        app.db.set_password_hash(user.id, &hash).await?;
                        app.cache.invalidate(user.id);
                        tracing::info!(user_id = user.id, "new password sent");
                        session.flash("New password sent to your inbox");
                        return Ok(Redirect::to("/signin/").into_response());
                    }
                    Err(error) => {
                        tracing::error!(%error, user_id = user.id, "cannot send the new password");
                        errors.add(
                            "email",
                            "The mail could not be sent. Your password is unchanged; please try again later.",
                        );
                        status = StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
            }
        }
    }
    Ok(render_with_status(
        status,
        &ForgotPasswordPage {
            layout: plain_layout(&session, "Forgot password?"),
            email: form.email,
            errors,
        },
    ))
}

pub async fn settings_form(user: CurrentUser) -> Response {
    render(&SettingsPage {
        layout: plain_layout(&user.session, "Account settings"),
        errors: Errors::default(),
    })
}

pub async fn settings(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let mut errors = form.validate();
    if errors.is_empty() {
        let Some(stored) = app.db.user_by_id(user.id).await? else {
            // The account is gone: this session means nothing any more.
            user.session.sign_out();
            return Ok(Redirect::to("/signin/").into_response());
        };
        if password::verify(&form.old_password, &stored.password_hash).await? {
            let hash = password::hash(&form.new_password).await?;
            // Every other session of the account ends; this one carries on.
            let epoch = app.db.set_password_hash(user.id, &hash).await?;
            app.cache.invalidate(user.id);
            user.session.sign_in(SessionUser {
                id: user.id,
                email: user.email.clone(),
                epoch,
            });
            tracing::info!(user_id = user.id, "password changed");
            user.session.flash("Password is successfully changed");
            return Ok(Redirect::to("/").into_response());
        }
        errors.add("old_password", forms::WRONG_CURRENT_PASSWORD);
    }
    Ok(render(&SettingsPage {
        layout: plain_layout(&user.session, "Account settings"),
        errors,
    }))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(
            safe_next(Some("/notes/1/?order=name")),
            Some("/notes/1/?order=name")
        );
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "",
            "/with space",
            "/ünïcode",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
