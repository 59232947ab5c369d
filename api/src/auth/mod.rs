//! Authentication (argon2id passwords, short-lived JWT access tokens, rotating refresh
//! tokens) and the extractors that state each handler's policy in its signature.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod ratelimit;

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
        Some(match s {
            "customer" => Self::Customer,
            "dealer" => Self::Dealer,
            "manager" => Self::Manager,
            "head" => Self::Head,
            "dispatcher" => Self::Dispatcher,
            "courier" => Self::Courier,
            "admin" => Self::Admin,
            _ => return None,
        })
    }

    /// Managers and their head handle claims.
    pub fn handles_claims(self) -> bool {
        matches!(self, Self::Manager | Self::Head)
    }
}
