//! One error type for every handler, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use domain::error::FieldError;
use serde::Serialize;

use crate::messages;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// A state-changing request made with the console's cookie but without its session's
    /// anti-CSRF token: another site may have sent it.
    #[error("missing or wrong CSRF token")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A conflict whose answer carries what the client needs to try again, as the problem's
    /// extension member `member` (RFC 9457 section 3.2).
    #[error("conflict: {detail}")]
    ConflictWith {
        detail: &'static str,
        member: &'static str,
        value: serde_json::Value,
    },
    #[error("payload too large: {0}")]
    PayloadTooLarge(&'static str),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("invalid fields: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("rate limited")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A concurrent request with the same `Idempotency-Key` committed first; the request
    /// is tried again once and then finds that request's answer (`app::idempotency`).
    #[error("concurrent request with the same Idempotency-Key")]
    IdempotencyRace,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Malformed request"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden => ("forbidden", "Not allowed"),
            Self::CsrfRejected => ("csrf", "Missing or wrong CSRF token"),
            Self::NotFound => ("not-found", "Not found"),
            Self::Conflict(_) | Self::ConflictWith { .. } => ("conflict", "Conflict"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation", "Invalid fields"),
            Self::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::IdempotencyRace => ("conflict", "Conflict"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d) | Self::Conflict(d) => d.clone(),
            Self::Unauthorized(d) | Self::ConflictWith { detail: d, .. } => (*d).to_owned(),
            Self::Forbidden => messages::FORBIDDEN.to_owned(),
            Self::CsrfRejected => messages::CSRF.to_owned(),
            Self::NotFound => messages::NOT_FOUND.to_owned(),
            Self::PayloadTooLarge(d) => (*d).to_owned(),
            Self::UnsupportedMediaType(d) => (*d).to_owned(),
            Self::Validation(errors) => errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Self::TooManyRequests { .. } => messages::TOO_MANY_LOGINS.to_owned(),
            Self::Unavailable(d) => d.clone(),
            Self::IdempotencyRace => messages::IDEMPOTENCY_IN_FLIGHT.to_owned(),
            Self::Internal(_) => messages::INTERNAL.to_owned(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<ProblemField>)]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a 422 answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::ConflictWith { .. } | Self::IdempotencyRace => {
                StatusCode::CONFLICT
            }
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let status = self.status_code();
        let (slug, title) = self.slug_and_title();
        let errors = match self {
            Self::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let body = Problem {
            type_: format!("/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            errors,
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        if let Self::ConflictWith { member, value, .. } = self {
            let mut body = serde_json::to_value(&body).unwrap_or_default();
            body[*member] = value.clone();
            return response.json(body);
        }
        response.json(body)
    }
}

/// What a violated unique constraint means, in the product's words. PostgreSQL names the
/// constraint; SQLite names the columns (`UNIQUE constraint failed: table.column, ...`), so
/// each rule carries both. The constraint names are the same in both migration folders.
struct UniqueRule {
    constraint: &'static str,
    sqlite_columns: &'static str,
    error: fn() -> ApiError,
}

const UNIQUE_RULES: &[UniqueRule] = &[
    UniqueRule {
        constraint: "users_email_key",
        sqlite_columns: "users.email",
        error: || ApiError::field("email", messages::DUPLICATE_EMAIL),
    },
    UniqueRule {
        constraint: "sales_serial_no_key",
        sqlite_columns: "sales.serial_no",
        error: || ApiError::field("serial_no", messages::DUPLICATE_SERIAL),
    },
    UniqueRule {
        constraint: "products_sku_key",
        sqlite_columns: "products.sku",
        error: || ApiError::field("sku", messages::DUPLICATE_SKU),
    },
    UniqueRule {
        constraint: "partners_kind_name_key",
        sqlite_columns: "partners.kind, partners.name",
        error: || ApiError::field("name", messages::DUPLICATE_PARTNER),
    },
    UniqueRule {
        constraint: "customers_email_key",
        sqlite_columns: "customers.email",
        error: || ApiError::Conflict(messages::CUSTOMER_CHANGED.to_owned()),
    },
    UniqueRule {
        constraint: "couriers_user_key",
        sqlite_columns: "couriers.user_id",
        error: || ApiError::field("user_id", messages::COURIER_EXISTS),
    },
    UniqueRule {
        constraint: "shifts_courier_date_key",
        sqlite_columns: "shifts.courier_id, shifts.date",
        error: || ApiError::Conflict(messages::SHIFT_CHANGED.to_owned()),
    },
    UniqueRule {
        constraint: "idempotency_keys_user_key",
        sqlite_columns: "idempotency_keys.user_id, idempotency_keys.key",
        error: || ApiError::IdempotencyRace,
    },
    UniqueRule {
        constraint: "plans_one_published_key",
        sqlite_columns: "plans.date, plans.scope",
        error: || ApiError::Conflict(messages::PLAN_OUTDATED.to_owned()),
    },
];

fn unique_violation(info: &dyn diesel::result::DatabaseErrorInformation) -> ApiError {
    let columns = info
        .message()
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    let rule = UNIQUE_RULES.iter().find(|rule| {
        info.constraint_name() == Some(rule.constraint) || columns == rule.sqlite_columns
    });
    match rule {
        Some(rule) => (rule.error)(),
        None => {
            // A constraint without a rule is a gap in this table, not the client's business.
            tracing::warn!(
                constraint = info.constraint_name(),
                message = info.message(),
                "unique constraint without a rule"
            );
            ApiError::Conflict(messages::CONFLICT.to_owned())
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                unique_violation(info.as_ref())
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Conflict(messages::CHANGED_MEANWHILE.to_owned())
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        tracing::warn!(error = %e, "no database connection");
        Self::Unavailable(messages::DATABASE_UNAVAILABLE.to_owned())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
