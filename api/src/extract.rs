//! Request extractors shared by the handlers: JSON bodies that report which field is wrong,
//! and the `Idempotency-Key` header.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use domain::error::FieldError;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::ApiError;
use crate::messages;

/// Largest JSON body accepted (files go through multipart, not JSON).
const JSON_LIMIT: usize = 256 * 1024;

/// A JSON body, deserialised with the path of any bad field and then validated:
/// malformed JSON is a 400, a missing or mistyped field or a failed rule is a 422 naming it.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = read_limited(req, payload.take(), JSON_LIMIT);
        Box::pin(async move { parse_valid(&body.await?).map(ValidJson) })
    }
}

/// The whole body, at most `limit` bytes. A body announced longer (`Content-Length`) is
/// refused before a byte is read, and one that streams past the limit as soon as it does:
/// a 413 either way, with nothing buffered beyond the limit. (The server then reads and
/// drops the rest for a moment, so the client still gets the answer.)
pub fn read_limited(
    req: &HttpRequest,
    mut payload: actix_web::dev::Payload,
    limit: usize,
) -> impl Future<Output = Result<web::Bytes, ApiError>> + 'static {
    let announced = content_length(req);
    async move {
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge(messages::BODY_TOO_LARGE));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(messages::BODY_TOO_LARGE));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// The request's `Content-Length`, when it sends one that parses.
pub fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn parse_valid<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_json::<T>(bytes)?;
    value
        .validate()
        .map_err(|e| ApiError::Validation(flatten(&e)))?;
    Ok(value)
}

/// Like [`ValidJson`], for bodies that may be left out: an empty body is `T::default()`,
/// anything else must parse and validate like any other body (a mistyped field is a 422,
/// never silently ignored).
pub struct ValidJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for ValidJsonOrEmpty<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = read_limited(req, payload.take(), JSON_LIMIT);
        Box::pin(async move {
            let bytes = body.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(T::default()));
            }
            parse_valid(&bytes).map(Self)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.classify() == serde_json::error::Category::Data {
                // A missing field is reported on the parent path with the name in the text.
                let message = inner.to_string();
                let field = missing_field(&message)
                    .map(|name| {
                        if path == "." {
                            name.to_owned()
                        } else {
                            format!("{path}.{name}")
                        }
                    })
                    .unwrap_or(path);
                Err(ApiError::Validation(vec![FieldError::new(
                    field,
                    messages::wrong_shape(&message),
                )]))
            } else {
                Err(ApiError::BadRequest(format!(
                    "{}: {inner}",
                    messages::MALFORMED_JSON
                )))
            }
        }
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Flattens validator's nested errors into `a.b[0].c`-style field paths.
pub fn flatten(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    flatten_into("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn flatten_into(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::new(path.clone(), messages::validation_rule(e)));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten_into(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten_into(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

/// The optional `Idempotency-Key` header: a retried request with the same key and body gets
/// the first answer instead of acting twice.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let key = match req.headers().get("Idempotency-Key") {
            None => Ok(None),
            Some(raw) => match raw.to_str() {
                Ok(key)
                    if !key.is_empty()
                        && key.len() <= 255
                        && key.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(Some(key.to_owned()))
                }
                _ => Err(ApiError::Validation(vec![FieldError::new(
                    "Idempotency-Key",
                    messages::IDEMPOTENCY_KEY_FORMAT,
                )])),
            },
        };
        std::future::ready(key.map(IdempotencyKey))
    }
}
