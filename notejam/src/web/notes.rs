//! Notes: the all-notes page, and create, view, edit, delete.

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::errors::AppError;
use super::forms::{self, Errors, NoteForm};
use super::views::{
    Layout, NoteDeletePage, NoteFormPage, NotePage, NoteRow, NotesListPage, PadChoice, human_time,
    render,
};
use super::{AppState, parse_id, query_param};
use crate::db::notes::{Note, Order};
use crate::db::now_millis;
use crate::db::pads::Pad;
use crate::session::CurrentUser;

pub async fn index(
    State(app): State<AppState>,
    user: CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let order = Order::parse(query_param(query.as_deref(), "order").as_deref());
    let (notes, pads) = tokio::try_join!(app.db.notes_of(user.id, order), app.db.pads_of(user.id))?;
    let now = now_millis();
    Ok(render(&NotesListPage {
        layout: Layout::user(&user, format!("All notes ({})", notes.len()), pads),
        notes: notes.into_iter().map(|n| NoteRow::new(n, now)).collect(),
        pad: None,
        order,
        base: "/".to_owned(),
    }))
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
    pads: Vec<Pad>,
    form: NoteForm,
    selected: Option<i64>,
    errors: Errors,
) -> Response {
    render(&NoteFormPage {
        pad_choices: choices(&pads, selected),
        no_pad_selected: selected.is_none(),
        layout: Layout::user(user, view.title, pads),
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
    let pads = app.db.pads_of(user.id).await?;
    // `?pad=` preselects a pad; one that is not the user's names no page.
    let preselected = match query_param(query.as_deref(), "pad").filter(|p| !p.is_empty()) {
        Some(text) => {
            let id = parse_id(&text)?;
            if !pads.iter().any(|pad| pad.id == id) {
                return Err(AppError::NotFound);
            }
            Some(id)
        }
        None => None,
    };
    Ok(note_form(
        &user,
        create_view(preselected),
        pads,
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
    let pads = app.db.pads_of(user.id).await?;
    let (errors, pad_id) = check(&form, &pads);
    if errors.is_empty() {
        app.db
            .create_note(user.id, pad_id, form.name.trim(), &form.text)
            .await?;
        user.session.flash("Note is successfully created");
        return Ok(Redirect::to(&home_of(pad_id)).into_response());
    }
    let from_pad = query_param(query.as_deref(), "pad").and_then(|p| parse_id(&p).ok());
    let view = create_view(from_pad.filter(|id| pads.iter().any(|pad| pad.id == *id)));
    Ok(note_form(&user, view, pads, form, pad_id, errors))
}

pub async fn view(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let note = owned_note(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
    let mut layout = Layout::user(&user, note.name.clone(), pads);
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
    let note = owned_note(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
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
        pads,
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
    let note = owned_note(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
    let (errors, pad_id) = check(&form, &pads);
    if errors.is_empty() {
        if !app
            .db
            .update_note(user.id, note.id, pad_id, form.name.trim(), &form.text)
            .await?
        {
            return Err(AppError::NotFound);
        }
        user.session.flash("Note is successfully updated");
        return Ok(Redirect::to(&format!("/notes/{}/", note.id)).into_response());
    }
    Ok(note_form(
        &user,
        edit_view(&note),
        pads,
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
    let note = owned_note(&app, &user, &id).await?;
    let pads = app.db.pads_of(user.id).await?;
    Ok(render(&NoteDeletePage {
        layout: Layout::user(&user, format!("Delete {}", note.name), pads),
        note,
    }))
}

pub async fn delete(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let note = owned_note(&app, &user, &id).await?;
    if !app.db.delete_note(user.id, note.id).await? {
        return Err(AppError::NotFound);
    }
    user.session.flash("Note is successfully deleted");
    Ok(Redirect::to(&home_of(note.pad_id)).into_response())
}
