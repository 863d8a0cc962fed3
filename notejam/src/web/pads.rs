//! Pads: create, view (its notes), rename, delete (with its notes).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::errors::AppError;
use super::forms::{Errors, PadForm};
use super::views::{Layout, PadDeletePage, PadFormPage, notes_list, render};
use super::{AppState, parse_id, query_param};
use crate::content::{Order, UserContent};
use crate::db::pads::Pad;
use crate::session::CurrentUser;

/// The user's lists and the pad of the URL; another user's pad is not among them.
async fn owned_pad(
    app: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(Pad, Arc<UserContent>), AppError> {
    let id = parse_id(id)?;
    let content = app.content(user.id).await?;
    let pad = content.pad(id).cloned().ok_or(AppError::NotFound)?;
    Ok((pad, content))
}

pub async fn create_form(
    State(app): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let content = app.content(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, "New pad", &content),
        action: "/pads/create/".to_owned(),
        submit: "Create",
        name: String::new(),
        errors: Errors::default(),
        pad_id: None,
    }))
}

pub async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PadForm>,
) -> Result<Response, AppError> {
    let errors = form.validate();
    if errors.is_empty() {
        let created = app.db.create_pad(user.id, form.name.trim()).await;
        app.cache.invalidate(user.id);
        let id = created?;
        user.session.flash("Pad is successfully created");
        return Ok(Redirect::to(&format!("/pads/{id}/")).into_response());
    }
    let content = app.content(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, "New pad", &content),
        action: "/pads/create/".to_owned(),
        submit: "Create",
        name: form.name,
        errors,
        pad_id: None,
    }))
}

pub async fn view(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (pad, content) = owned_pad(&app, &user, &id).await?;
    let order = Order::parse(query_param(query.as_deref(), "order").as_deref());
    Ok(notes_list(&user, &content, Some(pad), order))
}

pub async fn edit_form(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (pad, content) = owned_pad(&app, &user, &id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, format!("{} settings", pad.name), &content)
            .with_current_pad(pad.id),
        action: format!("/pads/{}/edit/", pad.id),
        submit: "Save",
        name: pad.name,
        errors: Errors::default(),
        pad_id: Some(pad.id),
    }))
}

pub async fn edit(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<PadForm>,
) -> Result<Response, AppError> {
    let (pad, content) = owned_pad(&app, &user, &id).await?;
    let errors = form.validate();
    if errors.is_empty() {
        let renamed = app.db.rename_pad(user.id, pad.id, form.name.trim()).await;
        app.cache.invalidate(user.id);
        if !renamed? {
            return Err(AppError::NotFound);
        }
        user.session.flash("Pad is successfully updated");
        return Ok(Redirect::to(&format!("/pads/{}/", pad.id)).into_response());
    }
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, format!("{} settings", pad.name), &content)
            .with_current_pad(pad.id),
        action: format!("/pads/{}/edit/", pad.id),
        submit: "Save",
        name: form.name,
        errors,
        pad_id: Some(pad.id),
    }))
}

pub async fn delete_form(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (pad, content) = owned_pad(&app, &user, &id).await?;
    Ok(render(&PadDeletePage {
        layout: Layout::user(&user, format!("Delete {}", pad.name), &content)
            .with_current_pad(pad.id),
        pad,
    }))
}

pub async fn delete(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let deleted = app.db.delete_pad(user.id, id).await;
    app.cache.invalidate(user.id);
    if !deleted? {
        return Err(AppError::NotFound);
    }
    user.session.flash("Pad is successfully deleted");
    Ok(Redirect::to("/").into_response())
}
