//! Pads: create, view (its notes), rename, delete (with its notes).

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::errors::AppError;
use super::forms::{Errors, PadForm};
use super::views::{Layout, NoteRow, NotesListPage, PadDeletePage, PadFormPage, render};
use super::{AppState, parse_id, query_param};
use crate::db::notes::Order;
use crate::db::now_millis;
use crate::db::pads::Pad;
use crate::session::CurrentUser;

async fn owned_pad(app: &AppState, user: &CurrentUser, id: &str) -> Result<Pad, AppError> {
    let id = parse_id(id)?;
    app.db.pad(user.id, id).await?.ok_or(AppError::NotFound)
}

pub async fn create_form(
    State(app): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, "New pad", pads),
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
        let id = app.db.create_pad(user.id, form.name.trim()).await?;
        user.session.flash("Pad is successfully created");
        return Ok(Redirect::to(&format!("/pads/{id}/")).into_response());
    }
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, "New pad", pads),
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
    let pad = owned_pad(&app, &user, &id).await?;
    let order = Order::parse(query_param(query.as_deref(), "order").as_deref());
    let (notes, pads) = tokio::try_join!(
        app.db.notes_in_pad(user.id, pad.id, order),
        app.db.pads_of(user.id)
    )?;
    let now = now_millis();
    Ok(render(&NotesListPage {
        layout: Layout::user(&user, format!("{} ({})", pad.name, notes.len()), pads)
            .with_current_pad(pad.id),
        notes: notes.into_iter().map(|n| NoteRow::new(n, now)).collect(),
        base: format!("/pads/{}/", pad.id),
        pad: Some(pad),
        order,
    }))
}

pub async fn edit_form(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let pad = owned_pad(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, format!("{} settings", pad.name), pads)
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
    let pad = owned_pad(&app, &user, &id).await?;
    let errors = form.validate();
    if errors.is_empty() {
        if !app.db.rename_pad(user.id, pad.id, form.name.trim()).await? {
            return Err(AppError::NotFound);
        }
        user.session.flash("Pad is successfully updated");
        return Ok(Redirect::to(&format!("/pads/{}/", pad.id)).into_response());
    }
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&PadFormPage {
        layout: Layout::user(&user, format!("{} settings", pad.name), pads)
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
    let pad = owned_pad(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&PadDeletePage {
        layout: Layout::user(&user, format!("Delete {}", pad.name), pads).with_current_pad(pad.id),
        pad,
    }))
}

pub async fn delete(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    if !app.db.delete_pad(user.id, id).await? {
        return Err(AppError::NotFound);
    }
    user.session.flash("Pad is successfully deleted");
    Ok(Redirect::to("/").into_response())
}
