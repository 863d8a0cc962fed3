//! Error pages, and the error type handlers return.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::password::PasswordError;
use crate::web::views::{ErrorPage, Layout, render_with_status};

pub const INTERNAL: &str = "Something went wrong on our side. Please try again in a moment.";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or someone else's: the two must look the same.
    #[error("not found")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Password(#[from] PasswordError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => not_found(),
            other => {
                tracing::error!(error = %other, "request failed");
                page(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
            }
        }
    }
}

pub fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "The page you asked for does not exist.",
    )
}

pub fn page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        _ => "Error",
    };
    render_with_status(
        status,
        &ErrorPage {
            layout: Layout::plain(title, None, None, String::new()),
            message: message.to_owned(),
        },
    )
}
