//! The product catalogue, the sales registry (one sale, or a CSV file of them), the
//! customers they name, and the warranty lookup. Every way of naming a customer (a sale, a
//! CSV line, a dealer's claim) goes through [`find_or_create_customer`], and every e-mail
//! through [`normalise_email`], so a customer is found whichever way she was registered.

use chrono::NaiveDate;
use diesel::Connection;
use domain::warranty::{check_warranty, WarrantyStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::registry::{self, NewCustomer, NewProduct, NewSale, ProductRow, SaleRow};
use crate::db::types::{CustomerId, DbEnum};
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;
use domain::locale::Locale;

/// The one spelling of an e-mail address that is stored and looked up.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A customer as a sale, a CSV line or a dealer names her.
#[derive(Debug, Clone, Default)]
pub struct CustomerDetails<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
    pub position: Option<(f64, f64)>,
    /// `None`: the server's default language.
    pub locale: Option<Locale>,
}

/// The customer with this e-mail if there is one (whatever its case and spacing), else a
/// new customer with these details. Without an e-mail a new customer is made.
pub fn find_or_create_customer(
    conn: &mut DbConnection,
    details: &CustomerDetails,
) -> ApiResult<CustomerId> {
    let email = details.email.map(normalise_email).filter(|e| !e.is_empty());
    if let Some(email) = &email {
        if let Some(existing) = registry::find_customer_by_email(conn, email)? {
            return Ok(existing.id);
        }
    }
    let name = details.name.trim();
    let customer = registry::insert_customer(
        conn,
        &NewCustomer {
            name: if name.is_empty() {
                email.as_deref().unwrap_or_default()
            } else {
                name
            },
            phone: details.phone.map(str::trim).filter(|p| !p.is_empty()),
            email: email.as_deref(),
            address: details.address.map(str::trim),
            lat: details.position.map(|p| p.0),
            lon: details.position.map(|p| p.1),
            created_at: now(),
            locale: details.locale.map(DbEnum),
        },
    )?;
    Ok(customer.id)
}

/// A product for the catalogue, validated.
#[derive(Debug, Clone)]
pub struct ProductInput<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub series: Option<&'a str>,
    pub warranty_months: i32,
    pub size_units: i32,
}

pub fn create_product(conn: &mut DbConnection, p: &ProductInput) -> ApiResult<ProductRow> {
    Ok(registry::insert_product(
        conn,
        &NewProduct {
            sku: p.sku.trim(),
            name: p.name.trim(),
            category: p.category.trim(),
            series: p.series.map(str::trim),
            warranty_months: p.warranty_months,
            size_units: p.size_units,
            created_at: now(),
        },
    )?)
}

/// Whom a sale was made to.
#[derive(Debug, Clone)]
pub enum Buyer<'a> {
    Unknown,
    Existing(CustomerId),
    Named(CustomerDetails<'a>),
}

/// One sale, as `POST /sales` and a CSV line give it.
#[derive(Debug, Clone)]
pub struct SaleInput<'a> {
    pub serial_no: &'a str,
    pub sku: &'a str,
    pub sold_at: NaiveDate,
    /// Overrides the product's warranty term (extended warranty).
    pub warranty_until: Option<NaiveDate>,
    /// The production batch the unit came from.
    pub batch_id: Option<&'a str>,
    pub buyer: Buyer<'a>,
}

/// Registers a sale; its errors name the field (`serial_no`, `sku`, `warranty_until`,
/// `customer_id`), so a CSV import can report them per line.
pub fn register_sale(conn: &mut DbConnection, sale: &SaleInput) -> ApiResult<SaleRow> {
    let serial_no = sale.serial_no.trim();
    let sku = sale.sku.trim();
    if serial_no.is_empty() || serial_no.chars().count() > 64 {
        return Err(ApiError::field("serial_no", messages::SERIAL_LENGTH));
    }
    if sale
        .warranty_until
        .is_some_and(|until| until < sale.sold_at)
    {
        return Err(ApiError::field(
            "warranty_until",
            messages::WARRANTY_BEFORE_SALE,
        ));
    }
    if registry::find_product(conn, sku)?.is_none() {
        return Err(ApiError::field("sku", messages::UNKNOWN_SKU));
    }
    if registry::find_sale(conn, serial_no)?.is_some() {
        return Err(ApiError::field("serial_no", messages::DUPLICATE_SERIAL));
    }
    let customer_id = match &sale.buyer {
        Buyer::Unknown => None,
        Buyer::Existing(id) => {
            registry::find_customer(conn, *id)?
                .ok_or_else(|| ApiError::field("customer_id", messages::NOT_FOUND))?;
            Some(*id)
        }
        Buyer::Named(details) => Some(find_or_create_customer(conn, details)?),
    };
    Ok(registry::insert_sale(
        conn,
        &NewSale {
            serial_no,
            sku,
            customer_id,
            sold_at: sale.sold_at,
            warranty_until: sale.warranty_until,
            created_at: now(),
            batch_id: sale.batch_id.map(str::trim).filter(|b| !b.is_empty()),
        },
    )?)
}

/// Header names of the CSV import; only the first three are required.
#[derive(Debug, Deserialize)]
struct CsvSale {
    serial_no: String,
    sku: String,
    sold_at: String,
    #[serde(default)]
    warranty_until: Option<String>,
    #[serde(default)]
    customer_email: Option<String>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default)]
    customer_phone: Option<String>,
    #[serde(default)]
    batch_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedLine {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub imported: u64,
    pub skipped: Vec<SkippedLine>,
}

/// Imports sales from CSV line by line: every good line goes in, every bad one is reported
/// with its line number and reason, and no line is half-imported (each line is its own
/// savepoint). An error of the database itself aborts the whole import.
pub fn import_sales(conn: &mut DbConnection, csv_text: &[u8]) -> ApiResult<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text);
    let headers = reader
        .headers()
        .map_err(|_| ApiError::field("file", messages::CSV_HEADER))?
        .clone();
    if !["serial_no", "sku", "sold_at"]
        .iter()
        .all(|h| headers.iter().any(|x| x == *h))
    {
        return Err(ApiError::field("file", messages::CSV_HEADER));
    }
    let mut report = ImportReport {
        imported: 0,
        skipped: Vec::new(),
    };
    for record in reader.records() {
        let (line, outcome) = match record {
            Err(e) => (
                e.position().map_or(0, |p| p.line()),
                Err(format!("unreadable CSV: {e}")),
            ),
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                let outcome = match record.deserialize::<CsvSale>(Some(&headers)) {
                    Err(e) => Err(format!("bad columns: {e}")),
                    Ok(row) => match conn.transaction(|conn| import_line(conn, &row)) {
                        Ok(_) => Ok(()),
                        Err(ApiError::Validation(errors)) => Err(errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")),
                        Err(other) => return Err(other),
                    },
                };
                (line, outcome)
            }
        };
        match outcome {
            Ok(()) => report.imported += 1,
            Err(reason) => report.skipped.push(SkippedLine { line, reason }),
        }
    }
    Ok(report)
}

fn import_line(conn: &mut DbConnection, row: &CsvSale) -> ApiResult<SaleRow> {
    let date = |field: &'static str, text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| ApiError::field(field, messages::not_a_date(text)))
    };
    let sold_at = date("sold_at", &row.sold_at)?;
    let warranty_until = match row.warranty_until.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(date("warranty_until", text)?),
        None => None,
    };
    let buyer = match row.customer_email.as_deref().filter(|s| !s.is_empty()) {
        None => Buyer::Unknown,
        Some(email) => Buyer::Named(CustomerDetails {
            name: row.customer_name.as_deref().unwrap_or_default(),
            phone: row.customer_phone.as_deref(),
            email: Some(email),
            ..CustomerDetails::default()
        }),
    };
    register_sale(
        conn,
        &SaleInput {
            serial_no: &row.serial_no,
            sku: &row.sku,
            sold_at,
            warranty_until,
            batch_id: row.batch_id.as_deref(),
            buyer,
        },
    )
}

/// The warranty of a serial number today, with the sale and product when registered.
#[derive(Debug, Clone)]
pub struct WarrantyLookup {
    pub status: WarrantyStatus,
    pub sale: Option<(SaleRow, ProductRow)>,
}

pub fn warranty(conn: &mut DbConnection, serial_no: &str) -> ApiResult<WarrantyLookup> {
    let sale = registry::find_sale(conn, serial_no.trim())?;
    let status = check_warranty(
        sale.as_ref()
            .map(|(s, p)| registry::sale_record(s, p))
            .as_ref(),
        crate::clock::now().date_naive(),
    );
    Ok(WarrantyLookup { status, sale })
}
