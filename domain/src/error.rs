//! Error values shared by several modules.

use serde::Serialize;

/// A validation problem tied to one input field, so the API can show it next
/// to the field the user has to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Name of the offending input field, as the client sent it.
    pub field: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// Builds a field error from anything string-like.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A string that does not name any variant of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownValue(pub String);

/// Implements `as_str`, `ALL`, `Display` and `FromStr` for a fieldless enum
/// from one list of `Variant => "text"` pairs, so the spellings cannot drift
/// apart between the directions.
macro_rules! string_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: [$ty; [$($ty::$variant),+].len()] = [$($ty::$variant),+];

            /// The stable snake_case spelling used in the database and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err($crate::error::UnknownValue(other.to_owned())),
                }
            }
        }
    };
}

pub(crate) use string_enum;
