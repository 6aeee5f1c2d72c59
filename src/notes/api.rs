//! The example resource: each signed-in user's notes, at /api/notes. It shows the whole path of a
//! feature: handlers behind the guard, a table of its own (`src/notes/store.rs`, one migration
//! per backend), bounds, problem+json errors, OpenAPI, and tests (`tests/notes.rs`).
//!
//! Each route names its scope once, in its signature: `Scoped<'_, NotesRead>` admits a sign-in,
//! or a personal token holding `notes:read`, and the OpenAPI document says so (the scopes are
//! declared in `src/scopes.rs`).

use super::store::{Note, NoteView, MAX_BODY_BYTES, MAX_NOTES, MAX_TITLE_CHARS};
use crate::scopes::{NotesRead, NotesWrite};
use serde::Deserialize;
use session_kit::api::schemas::{name_pattern, string, text_pattern, NAME_RULE};
use session_kit::prelude::*;
use session_kit::text;
use utoipa::openapi::schema::Object;
use utoipa::ToSchema;

session_kit::api_routes![list_notes, create_note, get_note, update_note, delete_note];

/// A note's content, to create or replace it.
#[derive(Deserialize, ToSchema)]
struct NoteInput {
    #[schema(schema_with = title_schema)]
    title: String,
    #[serde(default)]
    #[schema(schema_with = body_schema)]
    body: String,
}

/// A note's title: a name of 1 to 200 characters (see [`crate::text`]).
fn title_schema() -> Object {
    string(&format!("1 to {MAX_TITLE_CHARS} characters; {NAME_RULE}."))
        .min_length(Some(1))
        .pattern(Some(name_pattern(MAX_TITLE_CHARS)))
        .examples(["Groceries"])
        .build()
}

/// A note's body: multi-line text of at most 8 KiB; may be empty.
fn body_schema() -> Object {
    string(&format!(
        "At most {MAX_BODY_BYTES} bytes of UTF-8, without control characters other than tab, \
         line feed and carriage return; may be empty. The length below counts characters, which \
         are bytes for ASCII."
    ))
    .max_length(Some(MAX_BODY_BYTES))
    .pattern(Some(text_pattern()))
    .examples(["Milk, eggs, bread"])
    .build()
}

impl NoteInput {
    /// The trimmed title and the body, or 422 when they break the rules.
    fn checked(self) -> ApiResult<(String, String)> {
        let title = text::trim(&self.title).to_string();
        match Note::check(&title, &self.body) {
            Some(msg) => Err(Problem::unprocessable(msg)),
            None => Ok((title, self.body)),
        }
    }
}

fn no_such_note() -> Problem {
    Problem::not_found().detail("no such note")
}

/// The user's notes, most recently changed first (at most 200).
#[utoipa::path(
    tag = "notes",
    responses((status = 200, description = "The user's notes", body = [NoteView]))
)]
#[get("/notes")]
async fn list_notes(
    session: Scoped<'_, NotesRead>,
    mut db: Connection<Db>,
) -> ApiResult<Json<Vec<NoteView>>> {
    let notes = Note::list(&mut db, session.user_id()).await?;
    Ok(Json(notes.iter().map(Note::view).collect()))
}

/// Add a note.
#[utoipa::path(
    tag = "notes",
    request_body = NoteInput,
    responses(
        (status = 201, description = "Created", body = NoteView,
            headers(("Location" = String, description = "The new note's address")),
            links(
                ("get_note" = (operation_id = "get_note", parameters(("id" = "$response.body#/id")))),
                ("update_note" = (operation_id = "update_note", parameters(("id" = "$response.body#/id")))),
                ("delete_note" = (operation_id = "delete_note", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 409, description = "The user has 200 notes already (too_many_notes)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/notes", data = "<input>")]
async fn create_note(
    session: Scoped<'_, NotesWrite>,
    mut db: Connection<Db>,
    clock: &State<Clock>,
    input: JsonBody<NoteInput>,
) -> ApiResult<Created<Json<NoteView>>> {
    let (title, body) = input.0.checked()?;
    let id = new_public_id();
    let note = Note::insert(&mut db, session.user_id(), &id, &title, &body, clock.now())
        .await?
        .ok_or_else(|| {
            Problem::new(Status::Conflict, "too_many_notes", "Too many notes")
                .detail(format!("a user may keep at most {MAX_NOTES} notes"))
        })?;
    Ok(Created::new(format!("/api/notes/{id}")).body(Json(note.view())))
}

// readme: notes-handler
/// One of the user's notes.
#[utoipa::path(
    tag = "notes",
    params(("id" = inline(PublicId), Path, description = "The note's id")),
    responses((status = 200, description = "The note", body = NoteView), NotFound)
)]
#[get("/notes/<id>")]
async fn get_note(
    session: Scoped<'_, NotesRead>,
    mut db: Connection<Db>,
    id: PublicId,
) -> ApiResult<Json<NoteView>> {
    let note = Note::find(&mut db, session.user_id(), id.as_str()).await?;
    note.map(|note| Json(note.view())).ok_or_else(no_such_note)
}
// readme: end

/// Replace a note's title and body.
#[utoipa::path(
    tag = "notes",
    params(("id" = inline(PublicId), Path, description = "The note's id")),
    request_body = NoteInput,
    responses((status = 200, description = "The changed note", body = NoteView), NotFound)
)]
#[put("/notes/<id>", data = "<input>")]
async fn update_note(
    session: Scoped<'_, NotesWrite>,
    mut db: Connection<Db>,
    clock: &State<Clock>,
    id: PublicId,
    input: JsonBody<NoteInput>,
) -> ApiResult<Json<NoteView>> {
    let (title, body) = input.0.checked()?;
    let user_id = session.user_id();
    let note = Note::update(&mut db, user_id, id.as_str(), &title, &body, clock.now()).await?;
    note.map(|note| Json(note.view())).ok_or_else(no_such_note)
}

/// Delete a note.
#[utoipa::path(
    tag = "notes",
    params(("id" = inline(PublicId), Path, description = "The note's id")),
    responses((status = 204, description = "Deleted"), NotFound)
)]
#[delete("/notes/<id>")]
async fn delete_note(
    session: Scoped<'_, NotesWrite>,
    mut db: Connection<Db>,
    id: PublicId,
) -> ApiResult<Status> {
    match Note::delete(&mut db, session.user_id(), id.as_str()).await? {
        true => Ok(Status::NoContent),
        false => Err(no_such_note()),
    }
}
