//! The API's documentation (`/docs`): Swagger UI, vendored and served from the binary, on
//! the server's own OpenAPI document, so it renders on a machine with no internet access.

use actix_web::HttpResponse;
use minijinja::context;

use super::PageCtx;

pub async fn page(ctx: PageCtx) -> HttpResponse {
    ctx.finish(ctx.render("docs", context! {}))
}
