//! Notes: the all-notes page, and create, view, edit, delete.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::errors::AppError;
use super::forms::{self, Errors, NoteForm};
use super::views::{
    Layout, NoteDeletePage, NoteFormPage, NotePage, PadChoice, human_time, notes_list, render,
};
use super::{AppState, parse_id, query_param};
use crate::content::{Order, UserContent};
use crate::db::notes::Note;
use crate::db::pads::Pad;
use crate::db::{is_foreign_key_violation, now_millis};
use crate::session::CurrentUser;

pub async fn index(
    State(app): State<AppState>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let order = Order::parse(query_param(query.as_deref(), "order").as_deref());
    let content = app.content(user.id).await?;
    Ok(notes_list(&user, &content, None, order))
}

async fn content_of(app: &AppState, user: &CurrentUser) -> Result<Arc<UserContent>, AppError> {
    Ok(app.content(user.id).await?)
}

async fn owned_note(app: &AppState, user: &CurrentUser, id: &str) -> Result<Note, AppError> {
    let id = parse_id(id)?;
    app.db.note(user.id, id).await?.ok_or(AppError::NotFound)
}

fn choices(pads: &[Pad], selected: Option<i64>) -> Vec<PadChoice> {
    pads.iter()
        .map(|pad| PadChoice {
            id: pad.id.to_string(),
            name: pad.name.clone(),
            selected: selected == Some(pad.id),
        })
        .collect()
}

/// Where a note's page sends the user afterwards: its pad, or all notes.
fn home_of(pad_id: Option<i64>) -> String {
    match pad_id {
        Some(pad_id) => format!("/pads/{pad_id}/"),
        None => "/".to_owned(),
    }
}

struct FormView {
    title: String,
    action: String,
    submit: &'static str,
    back: String,
}

fn note_form(
    user: &CurrentUser,
    view: FormView,
    content: &Arc<UserContent>,
    form: NoteForm,
    selected: Option<i64>,
    errors: Errors,
) -> Response {
    render(&NoteFormPage {
        pad_choices: choices(&content.pads, selected),
        no_pad_selected: selected.is_none(),
        layout: Layout::user(user, view.title, content),
        action: view.action,
        submit: view.submit,
        name: form.name,
        text: form.text,
        errors,
        back: view.back,
    })
}

/// Validates the form; the pad must be one of the user's (others' are "not a choice").
fn check(form: &NoteForm, pads: &[Pad]) -> (Errors, Option<i64>) {
    let mut errors = Errors::default();
    let pad_id = form.validate(&mut errors);
    if let Some(id) = pad_id
        && !pads.iter().any(|pad| pad.id == id)
    {
        errors.add("pad", forms::INVALID_PAD);
    }
    (errors, pad_id)
}

fn create_view(pad_id: Option<i64>) -> FormView {
    FormView {
        title: "New note".to_owned(),
        action: match pad_id {
            Some(id) => format!("/notes/create/?pad={id}"),
            None => "/notes/create/".to_owned(),
        },
        submit: "Create",
        back: home_of(pad_id),
    }
}

pub async fn create_form(
    State(app): State<AppState>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let content = app.content(user.id).await?;
    // `?pad=` preselects a pad; one that is not the user's names no page.
    let preselected = match query_param(query.as_deref(), "pad").filter(|p| !p.is_empty()) {
        Some(text) => {
            let id = parse_id(&text)?;
            if content.pad(id).is_none() {
                return Err(AppError::NotFound);
            }
            Some(id)
        }
        None => None,
    };
    Ok(note_form(
        &user,
        create_view(preselected),
        &content,
        NoteForm::default(),
        preselected,
        Errors::default(),
    ))
}

pub async fn create(
    State(app): State<AppState>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let pads = app.pads(user.id).await?;
    let (mut errors, pad_id) = check(&form, &pads);
    if errors.is_empty() {
        let created = app
            .db
            .create_note(user.id, pad_id, form.name.trim(), &form.text)
            .await;
        app.cache.invalidate(user.id);
        match created {
            Ok(_) => {
                user.session.flash("Note is successfully created");
                return Ok(Redirect::to(&home_of(pad_id)).into_response());
            }
            // The pad went away (another tab, another node) since the lists were read.
            Err(error) if is_foreign_key_violation(&error) => errors.add("pad", forms::INVALID_PAD),
            Err(error) => return Err(error.into()),
        }
    }
    let content = app.content(user.id).await?;
    let from_pad = query_param(query.as_deref(), "pad").and_then(|p| parse_id(&p).ok());
    let view = create_view(from_pad.filter(|id| content.pad(*id).is_some()));
    Ok(note_form(&user, view, &content, form, pad_id, errors))
}

pub async fn view(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (note, content) = tokio::try_join!(owned_note(&app, &user, &id), content_of(&app, &user))?;
    let mut layout = Layout::user(&user, note.name.clone(), &content);
    if let Some(pad_id) = note.pad_id {
        layout = layout.with_current_pad(pad_id);
    }
    Ok(render(&NotePage {
        layout,
        updated: human_time(note.updated_at, now_millis()),
        note,
    }))
}

fn edit_view(note: &Note) -> FormView {
    FormView {
        title: format!("Edit {}", note.name),
        action: format!("/notes/{}/edit/", note.id),
        submit: "Save",
        back: format!("/notes/{}/", note.id),
    }
}

pub async fn edit_form(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (note, content) = tokio::try_join!(owned_note(&app, &user, &id), content_of(&app, &user))?;
    let view = edit_view(&note);
    let pad_id = note.pad_id;
    let form = NoteForm {
        name: note.name,
        text: note.text,
        pad: String::new(),
    };
    Ok(note_form(
        &user,
        view,
        &content,
        form,
        pad_id,
        Errors::default(),
    ))
}

pub async fn edit(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let (note, pads) = tokio::try_join!(owned_note(&app, &user, &id), async {
        Ok(app.pads(user.id).await?)
    })?;
    let (mut errors, pad_id) = check(&form, &pads);
    if errors.is_empty() {
        let updated = app
            .db
            .update_note(user.id, note.id, pad_id, form.name.trim(), &form.text)
            .await;
        app.cache.invalidate(user.id);
        match updated {
            Ok(true) => {
                user.session.flash("Note is successfully updated");
                return Ok(Redirect::to(&format!("/notes/{}/", note.id)).into_response());
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(error) if is_foreign_key_violation(&error) => errors.add("pad", forms::INVALID_PAD),
            Err(error) => return Err(error.into()),
        }
    }
    let content = app.content(user.id).await?;
    Ok(note_form(
        &user,
        edit_view(&note),
        &content,
        form,
        pad_id,
        errors,
    ))
}

pub async fn delete_form(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (note, content) = tokio::try_join!(owned_note(&app, &user, &id), content_of(&app, &user))?;
    Ok(render(&NoteDeletePage {
        layout: Layout::user(&user, format!("Delete {}", note.name), &content),
        note,
    }))
}

pub async fn delete(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let note = owned_note(&app, &user, &id).await?;
    let deleted = app.db.delete_note(user.id, note.id).await;
    app.cache.invalidate(user.id);
    if !deleted? {
        return Err(AppError::NotFound);
    }
    user.session.flash("Note is successfully deleted");
    Ok(Redirect::to(&home_of(note.pad_id)).into_response())
}
