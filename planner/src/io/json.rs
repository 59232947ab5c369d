//! Our JSON problem format: `Problem` serialised with serde (documented in README.md).

use super::ReadError;
use crate::model::Problem;

pub fn parse(text: &str) -> Result<Problem, ReadError> {
    let p: Problem = serde_json::from_str(text).map_err(|e| ReadError::At {
        line: e.line(),
        message: e.to_string(),
    })?;
    crate::validate(&p).map_err(ReadError::Other)?;
    Ok(p)
}

pub fn write(p: &Problem) -> String {
    serde_json::to_string_pretty(p).unwrap_or_default()
}
