//! `POST /claims`: a customer files for herself, a dealer on behalf of a customer.

use actix_web::http::StatusCode;
use actix_web::{post, HttpResponse};
use chrono::Utc;
use domain::claim::Remedy;
use domain::locale::Locale;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::ClaimResponse;
use crate::app::claims::{self, Filing, FilingCustomer};
use crate::app::idempotency::{self, Answer, Keyed};
use crate::auth::extract::ClaimFiler;
use crate::db::types::TimeWindow;
use crate::error::ApiResult;
use crate::extract::{IdempotencyKey, ValidJson};
use crate::messages;
use crate::state::State;

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct ClaimCustomer {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(min = 3, max = 50))]
    pub phone: Option<String>,
    #[validate(email)]
    pub email: Option<String>,
    /// The language she is written to in (`en` or `ru`); the server's default if absent.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct CreateClaimRequest {
    #[validate(length(min = 1, max = 64))]
    pub serial_no: String,
    #[validate(length(min = 1, max = 100))]
    pub defect_category: String,
    #[validate(length(min = 1, max = 5000))]
    pub description: String,
    /// `replacement`, `refund` or `repair`.
    #[schema(value_type = String)]
    pub requested_remedy: Remedy,
    #[validate(length(min = 1, max = 500))]
    pub address: String,
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
    #[serde(default)]
    #[validate(length(max = 10), custom(function = "valid_windows"))]
    pub preferred_windows: Vec<TimeWindow>,
    /// Dealers only: the customer the claim is for, when the sales registry does not name one.
    #[validate(nested)]
    pub customer: Option<ClaimCustomer>,
}

fn valid_windows(windows: &[TimeWindow]) -> Result<(), ValidationError> {
    let now = Utc::now();
    for w in windows {
        if w.end <= w.start {
            return Err(ValidationError::new("window").with_message(messages::WINDOW_ORDER.into()));
        }
        if w.end <= now {
            return Err(ValidationError::new("window").with_message(messages::WINDOW_PAST.into()));
        }
    }
    Ok(())
}

/// Files a claim. The warranty is checked against the sales registry and the claim goes to
/// the least-loaded manager on duty. With an `Idempotency-Key`, a retry with the same body
/// returns the first answer and files nothing; the same key with another body is a 422.
#[utoipa::path(tag = "claims", request_body = CreateClaimRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    responses((status = 201, body = ClaimResponse), (status = 422, body = crate::error::Problem),
              (status = 403, body = crate::error::Problem)))]
#[post("/claims")]
pub async fn create_claim(
    state: State,
    filer: ClaimFiler,
    key: IdempotencyKey,
    body: ValidJson<CreateClaimRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.0;
    let user = *filer;
    let keyed = Keyed::new(user.id, key.0, "POST /claims", &request)?;
    let filing = Filing {
        serial_no: request.serial_no.trim().to_owned(),
        defect_category: request.defect_category.trim().to_owned(),
        description: request.description.trim().to_owned(),
        requested_remedy: request.requested_remedy,
        address: request.address.trim().to_owned(),
        lat: request.lat,
        lon: request.lon,
        preferred_windows: request.preferred_windows,
        customer: request.customer.map(|c| FilingCustomer {
            name: c.name,
            phone: c.phone,
            email: c.email,
            locale: c.locale,
        }),
    };
    let sla = state.settings.sla.clone();
    let public_url = state.settings.notify.public_url.clone();
    let answer = idempotency::at_most_once(&state, move |conn| {
        idempotency::replay_or(conn, &keyed, |conn| {
            let claim = claims::file(conn, &sla, &user, &filing)?;
            Ok(Answer {
                status: 201,
                body: serde_json::to_string(
                    &ClaimResponse::new(claim, &public_url).seen_by(user.role),
                )
                .map_err(anyhow::Error::from)?,
            })
        })
    })
    .await?;
    let status = StatusCode::from_u16(answer.status).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(answer.body))
}
