#[rocket::main]
async fn main() -> Result<(), Box<rocket::Error>> {
    multitoken::app().launch().await.map_err(Box::new)?;
    Ok(())
}
