//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "claimroute", description = "Warranty claims that end in a courier at the customer's door."),
    paths(
        routes::ops::healthz, routes::ops::readyz,
        routes::auth::login, routes::auth::refresh, routes::auth::logout,
        routes::users::create_user, routes::users::list_users, routes::users::update_user,
        routes::registry::create_product, routes::registry::create_sale, routes::registry::import_sales,
        routes::registry::get_warranty,
        routes::claims::create::create_claim, routes::claims::list::list_claims, routes::claims::get::get_claim,
        routes::claims::transition::transition_claim, routes::claims::decide::decide_claim,
        routes::claims::comment::comment_claim, routes::claims::reassign::reassign_claim,
        routes::claims::attachments::upload_attachment, routes::claims::attachments::download_attachment,
        routes::jobs::list_jobs,
        routes::fleet::create_depot, routes::fleet::list_depots, routes::fleet::create_courier,
        routes::fleet::list_couriers, routes::fleet::put_shift,
        // The couriers' mobile API and the dispatchers' live map.
        routes::me::get_route, routes::me::report_event, routes::me::upload_proof,
        routes::me::post_positions, routes::me::live_positions,
        routes::plans::create_plan, routes::plans::list_plans, routes::plans::get_plan,
        routes::plans::plan_routes, routes::plans::plan_problem, routes::plans::edit_plan, routes::plans::publish_plan,
        routes::plans::reoptimize_plan,
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&BearerAuth, &VersionPrefix),
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

/// Handlers are declared relative to their scope; the document shows the full paths.
struct VersionPrefix;

impl Modify for VersionPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        openapi.paths.paths = paths
            .into_iter()
            .map(|(path, item)| {
                if path == "/healthz" || path == "/readyz" {
                    (path, item)
                } else {
                    (format!("/api/v1{path}"), item)
                }
            })
            .collect();
    }
}
