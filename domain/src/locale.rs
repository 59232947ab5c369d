//! The languages people are written to in.

use serde::{Deserialize, Serialize};

use crate::error::string_enum;

/// A language mails, documents and pages exist in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    En,
    Ru,
}

string_enum!(Locale {
    En => "en",
    Ru => "ru",
});

impl Locale {
    /// The best of ours for an `Accept-Language` value (`ru-RU,ru;q=0.9,en;q=0.8`): the
    /// first language named that we have, by the client's order of preference.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut ranked: Vec<(f32, Locale)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.trim().split(';');
                let tag = parts.next()?.trim().to_ascii_lowercase();
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                    .unwrap_or(1.0_f32);
                let primary = tag.split('-').next()?;
                Some((quality, primary.parse::<Locale>().ok()?))
            })
            .filter(|(q, _)| *q > 0.0)
            .collect();
        // Stable: equal weights keep the client's order.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, l)| *l)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_we_have() {
        assert_eq!(
            Locale::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Locale::Ru)
        );
        assert_eq!(
            Locale::from_accept_language("de-DE, en;q=0.5, ru;q=0.7"),
            Some(Locale::Ru)
        );
        assert_eq!(Locale::from_accept_language("fr, de"), None);
        assert_eq!(Locale::from_accept_language("ru;q=0, en"), Some(Locale::En));
        assert_eq!("ru".parse::<Locale>().unwrap(), Locale::Ru);
        assert!("RU".parse::<Locale>().is_err());
    }
}
