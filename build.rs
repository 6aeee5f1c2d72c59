// The app's migrations (migrations/<backend>/) are embedded by `session_kit::migrations!`;
// rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
