//! Bulk import of the sales registry from CSV, line by line: every good line goes in, every
//! bad one is reported with its line number and reason, and no line is half-imported
//! (each line is its own savepoint).

use chrono::NaiveDate;
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::registry::{self, NewCustomer, NewSale};
use crate::db::{now, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::messages;

/// Header names; only the first three are required.
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
                        Ok(()) => Ok(()),
                        Err(LineError::Invalid(reason)) => Err(reason),
                        Err(LineError::Db(e)) => return Err(e.into()),
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

/// Why a line was refused; an error of the database itself aborts the whole import.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

fn import_line(conn: &mut DbConnection, row: &CsvSale) -> Result<(), LineError> {
    let invalid = |m: String| LineError::Invalid(m);
    if row.serial_no.is_empty() || row.serial_no.len() > 64 {
        return Err(invalid("serial_no: must be 1 to 64 characters".into()));
    }
    let sold_at = parse_date(&row.sold_at).ok_or_else(|| {
        invalid(format!(
            "sold_at: `{}` is not a date (YYYY-MM-DD)",
            row.sold_at
        ))
    })?;
    let warranty_until = match row.warranty_until.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(parse_date(text).ok_or_else(|| {
            invalid(format!(
                "warranty_until: `{text}` is not a date (YYYY-MM-DD)"
            ))
        })?),
    };
    if warranty_until.is_some_and(|until| until < sold_at) {
        return Err(invalid("warranty_until: is before sold_at".into()));
    }
    if registry::find_product(conn, &row.sku)?.is_none() {
        return Err(invalid(format!(
            "sku: {} (`{}`)",
            messages::UNKNOWN_SKU,
            row.sku
        )));
    }
    if registry::find_sale(conn, &row.serial_no)?.is_some() {
        return Err(invalid(format!(
            "serial_no: {} (`{}`)",
            messages::DUPLICATE_SERIAL,
            row.serial_no
        )));
    }
    let customer_id = match row
        .customer_email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(email) => match registry::find_customer_by_email(conn, email)? {
            Some(c) => Some(c.id),
            None => Some(
                registry::insert_customer(
                    conn,
                    &NewCustomer {
                        name: row
                            .customer_name
                            .as_deref()
                            .filter(|s| !s.is_empty())
                            .unwrap_or(email),
                        phone: row.customer_phone.as_deref().filter(|s| !s.is_empty()),
                        email: Some(&email.to_lowercase()),
                        address: None,
                        lat: None,
                        lon: None,
                        created_at: now(),
                    },
                )?
                .id,
            ),
        },
    };
    registry::insert_sale(
        conn,
        &NewSale {
            serial_no: &row.serial_no,
            sku: &row.sku,
            customer_id,
            sold_at,
            warranty_until,
            created_at: now(),
        },
    )?;
    Ok(())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}
