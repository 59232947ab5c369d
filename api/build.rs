//! Builds the templates (`api/templates`: mails, and later pages and documents) into the
//! binary, so it runs from anywhere with nothing beside it; `TEMPLATES_DIR` can point the
//! server at an edited copy instead.

fn main() {
    minijinja_embed::embed_templates!("templates");
}
