//! Problem readers.

pub mod json;
pub mod solomon;
pub mod solution;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("line {line}: {message}")]
    At { line: usize, message: String },
    #[error("{0}")]
    Other(String),
}
