//! The product catalogue, the sales registry and the warranty lookup.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use domain::warranty::WarrantyStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::registry::{self, Buyer, CustomerDetails, ImportReport, ProductInput, SaleInput};
use crate::auth::extract::{Registrar, WarrantyReader};
use crate::db::registry::{ProductRow, SaleRow};
use crate::db::types::CustomerId;
use crate::error::{ApiError, ApiResult};
use crate::extract::{read_limited, ValidJson};
use crate::messages;
use crate::state::State;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateProductRequest {
    #[validate(length(min = 1, max = 64))]
    pub sku: String,
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(min = 1, max = 100))]
    pub category: String,
    #[validate(length(max = 100))]
    pub series: Option<String>,
    #[validate(range(min = 0, max = 240))]
    pub warranty_months: i32,
    /// How much room the unit takes in a courier's vehicle.
    #[validate(range(min = 1, max = 1000))]
    pub size_units: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub series: Option<String>,
    pub warranty_months: i32,
    pub size_units: i32,
}

impl From<ProductRow> for ProductResponse {
    fn from(p: ProductRow) -> Self {
        Self {
            id: p.id,
            sku: p.sku,
            name: p.name,
            category: p.category,
            series: p.series,
            warranty_months: p.warranty_months,
            size_units: p.size_units,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SaleCustomer {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    #[validate(length(max = 50))]
    pub phone: Option<String>,
    #[validate(email)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateSaleRequest {
    #[validate(length(min = 1, max = 64))]
    pub serial_no: String,
    #[validate(length(min = 1, max = 64))]
    pub sku: String,
    pub sold_at: NaiveDate,
    /// Overrides the product's warranty term (extended warranty).
    pub warranty_until: Option<NaiveDate>,
    /// The production batch the unit came from (the defects report compares batches).
    #[validate(length(min = 1, max = 64))]
    pub batch_id: Option<String>,
    /// An existing customer...
    pub customer_id: Option<CustomerId>,
    /// ...or a new one.
    #[validate(nested)]
    pub customer: Option<SaleCustomer>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SaleResponse {
    pub id: i64,
    pub serial_no: String,
    pub sku: String,
    pub customer_id: Option<CustomerId>,
    pub sold_at: NaiveDate,
    pub warranty_until: Option<NaiveDate>,
    pub batch_id: Option<String>,
}

impl From<SaleRow> for SaleResponse {
    fn from(s: SaleRow) -> Self {
        Self {
            id: s.id,
            serial_no: s.serial_no,
            sku: s.sku,
            customer_id: s.customer_id,
            sold_at: s.sold_at,
            warranty_until: s.warranty_until,
            batch_id: s.batch_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyResponse {
    pub serial_no: String,
    /// `in_warranty`, `expired` or `unknown_serial`.
    pub status: String,
    pub until: Option<NaiveDate>,
    pub sku: Option<String>,
    pub product_name: Option<String>,
    pub sold_at: Option<NaiveDate>,
}

/// Adds a product to the catalogue.
#[utoipa::path(tag = "registry", request_body = CreateProductRequest, security(("bearer" = [])), responses(
    (status = 201, body = ProductResponse), (status = 422, body = crate::error::Problem)))]
#[post("/products")]
pub async fn create_product(
    state: State,
    _who: Registrar,
    body: ValidJson<CreateProductRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let product = state
        .write(move |conn| {
            registry::create_product(
                conn,
                &ProductInput {
                    sku: &r.sku,
                    name: &r.name,
                    category: &r.category,
                    series: r.series.as_deref(),
                    warranty_months: r.warranty_months,
                    size_units: r.size_units.unwrap_or(1),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(ProductResponse::from(product)))
}

/// Registers one sale.
#[utoipa::path(tag = "registry", request_body = CreateSaleRequest, security(("bearer" = [])), responses(
    (status = 201, body = SaleResponse), (status = 422, body = crate::error::Problem)))]
#[post("/sales")]
pub async fn create_sale(
    state: State,
    _who: Registrar,
    body: ValidJson<CreateSaleRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let sale = state
        .write(move |conn| {
            let buyer = match (r.customer_id, &r.customer) {
                (Some(id), _) => Buyer::Existing(id),
                (None, Some(c)) => Buyer::Named(CustomerDetails {
                    name: &c.name,
                    phone: c.phone.as_deref(),
                    email: c.email.as_deref(),
                    ..CustomerDetails::default()
                }),
                (None, None) => Buyer::Unknown,
            };
            registry::register_sale(
                conn,
                &SaleInput {
                    serial_no: &r.serial_no,
                    sku: &r.sku,
                    sold_at: r.sold_at,
                    warranty_until: r.warranty_until,
                    batch_id: r.batch_id.as_deref(),
                    buyer,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(SaleResponse::from(sale)))
}

/// Largest sales file taken in one request (about 100,000 lines).
const IMPORT_LIMIT: usize = 8 * 1024 * 1024;

/// Imports sales from a CSV file (the body, as `text/csv`, at most 8 MiB). Header:
/// `serial_no,sku,sold_at[,warranty_until,customer_email,customer_name,customer_phone,batch_id]`.
/// Answers with how many lines went in and each skipped line with its number and reason.
#[utoipa::path(tag = "registry", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])), responses(
    (status = 200, body = ImportReport), (status = 422, body = crate::error::Problem)))]
#[post("/sales/import")]
pub async fn import_sales(
    state: State,
    _who: Registrar,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let is_csv = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("text/csv")
                || v.starts_with("text/plain")
                || v.starts_with("application/octet-stream")
        });
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType(messages::CSV_TYPE));
    }
    let body = read_limited(&req, payload.into_inner(), IMPORT_LIMIT).await?;
    let report = state
        .write(move |conn| registry::import_sales(conn, &body))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Warranty status of a serial number today.
#[utoipa::path(tag = "registry", params(("serial" = String, Path)), security(("bearer" = [])), responses((status = 200, body = WarrantyResponse)))]
#[get("/warranty/{serial}")]
pub async fn get_warranty(
    state: State,
    _who: WarrantyReader,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let serial = path.into_inner();
    let lookup = serial.clone();
    let found = state
        .db(move |conn| registry::warranty(conn, &lookup))
        .await?;
    let status = found.status;
    let found = found.sale;
    let until = match &status {
        WarrantyStatus::InWarranty { until } | WarrantyStatus::Expired { until } => Some(*until),
        WarrantyStatus::UnknownSerial => None,
    };
    Ok(HttpResponse::Ok().json(WarrantyResponse {
        serial_no: serial,
        status: status.as_str().to_owned(),
        until,
        sku: found.as_ref().map(|(s, _)| s.sku.clone()),
        product_name: found.as_ref().map(|(_, p)| p.name.clone()),
        sold_at: found.as_ref().map(|(s, _)| s.sold_at),
    }))
}
