//! The OpenAPI document. Paths come from the handlers' annotations as `routes::configure`
//! mounts them (utoipa-actix-web), so no path is listed here.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "claimroute", description = "Warranty claims that end in a courier at the customer's door."),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every schema the document is made of, with its name, before they are merged by name:
/// two different schemas under one name would leave one of them undocumented.
pub fn all_schemas() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    let mut out = crate::routes::schema_references();
    if let Some(components) = ApiDoc::openapi().components {
        out.extend(components.schemas);
    }
    out
}
