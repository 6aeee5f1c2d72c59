//! The app's scopes, each a marker type for `Scoped<'_, S>` with its name and a one-line
//! description, after the kit's own (`profile:read`, `sessions:read`, `sessions:write`). A new
//! scope is one line here; then guard a route with it. `kit()` in lib.rs passes [`ALL`] to the
//! kit, which lists them at `GET /api/scopes`, on the token form and in the OpenAPI document.

session_kit::scopes! {
    // readme: notes-scopes
    /// Listing and reading notes.
    NotesRead = "notes:read", "Read your notes";
    /// Creating, changing and deleting notes.
    NotesWrite = "notes:write", "Create, change and delete your notes";
    // readme: end
}
