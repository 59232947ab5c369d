//! `POST /claims`: a customer files for herself, a dealer on behalf of a customer.

use actix_web::{post, HttpResponse};
use chrono::Utc;
use domain::claim::Remedy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::ClaimResponse;
use crate::auth::extract::ClaimFiler;
use crate::auth::Role;
use crate::db::registry::{self, NewCustomer};
use crate::db::{idempotency, now, users, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, ValidJson};
use crate::messages;
use crate::state::State;
use crate::workflow::{self, NewClaimInput, TimeWindow};

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct ClaimCustomer {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(min = 3, max = 50))]
    pub phone: Option<String>,
    #[validate(email)]
    pub email: Option<String>,
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
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&request).map_err(anyhow::Error::from)?,
    ));
    let sla = state.settings.sla.clone();
    let key = key.0;
    // Two tries: if a concurrent request with the same key commits first, ours fails on the
    // key's unique index and the second try finds and returns its answer.
    for attempt in 0..2 {
        let (request, request_hash, key_owned, sla) = (
            request.clone(),
            request_hash.clone(),
            key.clone(),
            sla.clone(),
        );
        let result = state
            .write(move |conn| {
                let key = key_owned;
                if let Some(key) = &key {
                    if let Some(stored) = idempotency::find(conn, user.id, key)? {
                        if stored.request_hash != request_hash {
                            return Err(ApiError::field(
                                "Idempotency-Key",
                                messages::IDEMPOTENCY_MISMATCH,
                            ));
                        }
                        return Ok((stored.status_code, stored.response_body));
                    }
                }
                let customer_id = resolve_customer(conn, user.id, user.role, &request)?;
                let claim = workflow::file_claim(
                    conn,
                    &sla,
                    &NewClaimInput {
                        customer_id,
                        filed_by: user.id,
                        serial_no: request.serial_no.trim().to_owned(),
                        defect_category: request.defect_category.trim().to_owned(),
                        description: request.description.trim().to_owned(),
                        requested_remedy: request.requested_remedy,
                        address: request.address.trim().to_owned(),
                        lat: request.lat,
                        lon: request.lon,
                        preferred_windows: request.preferred_windows.clone(),
                    },
                )?;
                let body = serde_json::to_string(&ClaimResponse::from(claim))
                    .map_err(anyhow::Error::from)?;
                if let Some(key) = &key {
                    idempotency::insert(conn, user.id, key, &request_hash, 201, &body)?;
                }
                Ok((201, body))
            })
            .await;
        match result {
            Ok((status, body)) => {
                let status =
                    actix_web::http::StatusCode::from_u16(u16::try_from(status).unwrap_or(201))
                        .map_err(anyhow::Error::from)?;
                return Ok(HttpResponse::build(status)
                    .content_type("application/json")
                    .body(body));
            }
            Err(ApiError::Conflict(_)) if attempt == 0 && key.is_some() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::Conflict(messages::STALE_CLAIM.to_owned()))
}

/// The customer the claim is about: the caller herself, or for a dealer the customer he
/// names (found by e-mail or created), else the buyer in the sales registry.
fn resolve_customer(
    conn: &mut DbConnection,
    user_id: i64,
    role: Role,
    request: &CreateClaimRequest,
) -> ApiResult<i64> {
    if role == Role::Customer {
        let own = users::find(conn, user_id)?
            .and_then(|u| u.customer_id)
            .ok_or(ApiError::Forbidden)?;
        // A unit registered to someone else is not hers to claim (nor its sale hers to
        // see); an unregistered one is for the manager to check.
        let owner = registry::find_sale(conn, request.serial_no.trim())?
            .and_then(|(sale, _)| sale.customer_id);
        if owner.is_some_and(|owner| owner != own) {
            return Err(ApiError::field("serial_no", messages::SERIAL_OF_ANOTHER));
        }
        return Ok(own);
    }
    if let Some(c) = &request.customer {
        if let Some(email) = c.email.as_deref() {
            if let Some(existing) = registry::find_customer_by_email(conn, email)? {
                return Ok(existing.id);
            }
        }
        let email = c.email.as_deref().map(|e| e.trim().to_lowercase());
        return Ok(registry::insert_customer(
            conn,
            &NewCustomer {
                name: c.name.trim(),
                phone: c.phone.as_deref(),
                email: email.as_deref(),
                address: Some(request.address.trim()),
                lat: Some(request.lat),
                lon: Some(request.lon),
                created_at: now(),
            },
        )?
        .id);
    }
    registry::find_sale(conn, request.serial_no.trim())?
        .and_then(|(sale, _)| sale.customer_id)
        .ok_or_else(|| ApiError::field("customer", messages::CUSTOMER_NEEDED))
}
