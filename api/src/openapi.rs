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

/// Declares the error answers every operation can give, from what the operation takes:
/// a bearer token (401, and 403 for a role or an object that is not the caller's), path
/// ids (404), query parameters (400 unparsable, 422 out of range), a body (400 malformed,
/// 413 too large, 415 for a file of the wrong type, 422 invalid), an `Idempotency-Key` (409 while the first request runs,
/// 422 for a key reused with another body), and the rate-limited doors (429). Problems are
/// `application/problem+json`, as the server sends them; the annotations' own problem
/// answers are moved there too. Runs once on the document `routes::configure` built.
pub fn declare_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

    const PROBLEM_TYPE: &str = "application/problem+json";
    // The only secured operation every role may call.
    const ANY_ROLE: &[&str] = &["logout_all"];
    // Answers 429 when a client tries too often.
    const RATE_LIMITED: &[&str] = &["login", "track", "feedback"];

    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let id = operation.operation_id.clone().unwrap_or_default();
            let params = operation.parameters.as_deref().unwrap_or_default();
            let takes = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
            let keyed = params.iter().any(|p| p.name == "Idempotency-Key");
            let (in_path, in_query) = (takes(ParameterIn::Path), takes(ParameterIn::Query));
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut due: Vec<(&str, &str)> = Vec::new();
            if secured {
                due.push((
                    "401",
                    "No valid bearer token (missing, expired or revoked).",
                ));
                if !ANY_ROLE.contains(&id.as_str()) {
                    due.push(("403", "The caller's role may not do this."));
                }
            }
            if in_path {
                due.push(("404", "No such object, or not one the caller may see."));
            }
            if in_query || operation.request_body.is_some() {
                due.push(("400", "The request could not be read."));
                due.push(("422", "A field is invalid; `errors` names it and why."));
            }
            if let Some(body) = &operation.request_body {
                due.push(("413", "The body is larger than this operation accepts."));
                if body.content.keys().any(|k| k != "application/json") {
                    due.push(("415", "The body is not of the type this operation reads."));
                }
            }
            if keyed {
                due.push((
                    "409",
                    "A request with the same Idempotency-Key is under way.",
                ));
                due.push(("422", "The Idempotency-Key was used with another request."));
            }
            if RATE_LIMITED.contains(&id.as_str()) {
                due.push((
                    "429",
                    "Too many attempts; retry after `Retry-After` seconds.",
                ));
            }
            let responses = &mut operation.responses.responses;
            for (status, description) in due {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            }
            // Problems the annotations declared as JSON are sent as problem+json.
            for response in responses.values_mut() {
                if let utoipa::openapi::RefOr::T(response) = response {
                    if let Some(content) = response.content.shift_remove("application/json") {
                        let is_problem = matches!(
                            &content.schema,
                            Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")
                        );
                        if is_problem {
                            response.content.insert(PROBLEM_TYPE.to_owned(), content);
                        } else {
                            response
                                .content
                                .insert("application/json".to_owned(), content);
                        }
                    }
                }
            }
        }
    }
}
