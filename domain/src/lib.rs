//! Pure business rules of the warranty-claims backend.
//!
//! Nothing in this crate performs I/O, talks to a database or runs async code:
//! every function takes plain values and returns plain values, so the API layer
//! can consult these rules from handlers and the rules can be unit-tested in
//! isolation.

pub mod assignment;
pub mod claim;
pub mod decision;
pub mod dispatch;
pub mod error;
pub mod eta;
pub mod job;
pub mod locale;
pub mod partner;
pub mod plan;
pub mod report;
pub mod sla;
pub mod stats;
pub mod warranty;
pub mod words;

pub use error::{FieldError, UnknownValue};
