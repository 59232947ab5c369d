//! Partners a courier may drive to besides depots and customers: workshops that repair units
//! under contract and suppliers that hand out replacement units. A manager registers them;
//! a contractor repair or a supplier exchange names one.

use serde::{Deserialize, Serialize};

use crate::error::string_enum;

/// What a partner does for the claims it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// Repairs units sent to it.
    Workshop,
    /// Hands out replacement units to be collected.
    Supplier,
}

string_enum!(PartnerKind {
    Workshop => "workshop",
    Supplier => "supplier",
});

/// Whether a partner that handles `categories` (none listed: every category) takes a unit of
/// product category `category`.
pub fn serves_category(categories: &[String], category: &str) -> bool {
    categories.is_empty() || categories.iter().any(|c| c == category)
}

/// The list as stored: trimmed, without empties or repeats, in the order given.
pub fn normalise_categories(categories: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(categories.len());
    for c in categories
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        if !out.iter().any(|seen| seen == c) {
            out.push(c.to_owned());
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in PartnerKind::ALL {
            assert_eq!(k.as_str().parse::<PartnerKind>().unwrap(), k);
        }
        assert!("depot".parse::<PartnerKind>().is_err());
    }

    #[test]
    fn an_empty_list_serves_every_category() {
        assert!(serves_category(&[], "fridge"));
        let fridges = vec!["fridge".to_owned()];
        assert!(serves_category(&fridges, "fridge"));
        assert!(!serves_category(&fridges, "tv"));
    }

    #[test]
    fn categories_are_trimmed_and_kept_once() {
        let given = [" fridge", "tv", "", "fridge ", "tv"].map(str::to_owned);
        assert_eq!(normalise_categories(&given), vec!["fridge", "tv"]);
    }
}
