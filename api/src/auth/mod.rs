//! Authentication (argon2id passwords, short-lived JWT access tokens, rotating refresh
//! tokens) and the extractors that state each handler's policy in its signature.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod public_limit;
pub mod ratelimit;
pub mod revocation;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Dealer,
    Manager,
    Head,
    Dispatcher,
    Courier,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Dealer => "dealer",
            Self::Manager => "manager",
            Self::Head => "head",
            Self::Dispatcher => "dispatcher",
            Self::Courier => "courier",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub const ALL: [Role; 7] = [
        Self::Customer,
        Self::Dealer,
        Self::Manager,
        Self::Head,
        Self::Dispatcher,
        Self::Courier,
        Self::Admin,
    ];

    /// Managers and their head handle claims.
    pub fn handles_claims(self) -> bool {
        matches!(self, Self::Manager | Self::Head)
    }
}

impl std::str::FromStr for Role {
    type Err = domain::UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| domain::UnknownValue(s.to_owned()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `claimroute user add --role manager`.
impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}
