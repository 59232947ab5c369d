//! Warranty coverage of a sold unit.

use chrono::{Months, NaiveDate};
use serde::Serialize;

/// What the sales records say about one serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRecord {
    /// Date of sale; coverage starts here.
    pub sold_at: NaiveDate,
    /// Warranty length in calendar months, if the product has a standard term.
    pub warranty_months: Option<u32>,
    /// An explicit end date (extended warranty, goodwill); overrides the term.
    pub warranty_until: Option<NaiveDate>,
}

/// The outcome of a warranty check, serialised as `{"status": "...", "until": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WarrantyStatus {
    /// Covered; `until` is the last covered day.
    InWarranty { until: NaiveDate },
    /// Coverage ended on `until`.
    Expired { until: NaiveDate },
    /// No sale is known for the serial number, so a manager has to check by hand.
    UnknownSerial,
}

impl WarrantyStatus {
    /// The same spelling as the serialised `status` tag.
    pub fn as_str(&self) -> &'static str {
        match self {
            WarrantyStatus::InWarranty { .. } => "in_warranty",
            WarrantyStatus::Expired { .. } => "expired",
            WarrantyStatus::UnknownSerial => "unknown_serial",
        }
    }

    /// The last covered day, when known.
    pub fn until(&self) -> Option<NaiveDate> {
        match self {
            WarrantyStatus::InWarranty { until } | WarrantyStatus::Expired { until } => {
                Some(*until)
            }
            WarrantyStatus::UnknownSerial => None,
        }
    }
}

/// The last day a sale is covered.
///
/// An explicit end date wins because it records a deliberate exception.
/// Otherwise the term is added in calendar months, clamping to the month's end
/// (31 January + 1 month = 28/29 February) as customers expect. A date beyond
/// chrono's range saturates to [`NaiveDate::MAX`] rather than failing: an
/// absurdly long warranty is still a warranty. With neither a term nor an end
/// date, coverage is the day of sale only.
pub fn warranty_until(sale: &SaleRecord) -> NaiveDate {
    if let Some(until) = sale.warranty_until {
        return until;
    }
    match sale.warranty_months {
        Some(months) => sale
            .sold_at
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX),
        None => sale.sold_at,
    }
}

/// Whether a claim made on `claim_date` is covered. The last day is included.
pub fn check_warranty(sale: Option<&SaleRecord>, claim_date: NaiveDate) -> WarrantyStatus {
    let Some(sale) = sale else {
        return WarrantyStatus::UnknownSerial;
    };
    let until = warranty_until(sale);
    if claim_date <= until {
        WarrantyStatus::InWarranty { until }
    } else {
        WarrantyStatus::Expired { until }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn sale(sold_at: NaiveDate, months: Option<u32>, until: Option<NaiveDate>) -> SaleRecord {
        SaleRecord {
            sold_at,
            warranty_months: months,
            warranty_until: until,
        }
    }

    #[test]
    fn in_warranty() {
        let s = sale(d(2025, 3, 10), Some(24), None);
        let st = check_warranty(Some(&s), d(2026, 1, 1));
        assert_eq!(
            st,
            WarrantyStatus::InWarranty {
                until: d(2027, 3, 10)
            }
        );
        assert_eq!(st.as_str(), "in_warranty");
        assert_eq!(st.until(), Some(d(2027, 3, 10)));
    }

    #[test]
    fn expired() {
        let s = sale(d(2023, 3, 10), Some(12), None);
        let st = check_warranty(Some(&s), d(2026, 1, 1));
        assert_eq!(
            st,
            WarrantyStatus::Expired {
                until: d(2024, 3, 10)
            }
        );
        assert_eq!(st.as_str(), "expired");
    }

    #[test]
    fn last_day_is_covered_and_next_is_not() {
        let s = sale(d(2025, 6, 15), Some(12), None);
        assert!(matches!(
            check_warranty(Some(&s), d(2026, 6, 15)),
            WarrantyStatus::InWarranty { .. }
        ));
        assert!(matches!(
            check_warranty(Some(&s), d(2026, 6, 16)),
            WarrantyStatus::Expired { .. }
        ));
    }

    #[test]
    fn month_end_clamps() {
        assert_eq!(
            warranty_until(&sale(d(2025, 1, 31), Some(1), None)),
            d(2025, 2, 28)
        );
        assert_eq!(
            warranty_until(&sale(d(2024, 1, 31), Some(1), None)),
            d(2024, 2, 29)
        );
    }

    #[test]
    fn explicit_until_wins() {
        let s = sale(d(2020, 1, 1), Some(12), Some(d(2030, 5, 5)));
        assert_eq!(warranty_until(&s), d(2030, 5, 5));
        // Even when it is shorter than the standard term.
        let s = sale(d(2020, 1, 1), Some(12), Some(d(2020, 2, 1)));
        assert_eq!(warranty_until(&s), d(2020, 2, 1));
    }

    #[test]
    fn no_term_covers_sale_day_only() {
        let s = sale(d(2025, 5, 5), None, None);
        assert_eq!(warranty_until(&s), d(2025, 5, 5));
        assert!(matches!(
            check_warranty(Some(&s), d(2025, 5, 6)),
            WarrantyStatus::Expired { .. }
        ));
    }

    #[test]
    fn overflow_saturates() {
        let s = sale(d(2025, 5, 5), Some(u32::MAX), None);
        assert_eq!(warranty_until(&s), NaiveDate::MAX);
    }

    #[test]
    fn unknown_serial() {
        let st = check_warranty(None, d(2026, 1, 1));
        assert_eq!(st, WarrantyStatus::UnknownSerial);
        assert_eq!(st.as_str(), "unknown_serial");
        assert_eq!(st.until(), None);
    }

    #[test]
    fn serialises_with_status_tag() {
        let st = WarrantyStatus::InWarranty {
            until: d(2027, 3, 10),
        };
        assert_eq!(
            serde_json::to_string(&st).unwrap(),
            r#"{"status":"in_warranty","until":"2027-03-10"}"#
        );
        assert_eq!(
            serde_json::to_string(&WarrantyStatus::UnknownSerial).unwrap(),
            r#"{"status":"unknown_serial"}"#
        );
    }
}
