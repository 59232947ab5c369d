//! Problem readers.

pub mod json;
pub mod lilim;
pub mod solomon;
pub mod solution;
pub mod vroom;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("line {line}: {message}")]
    At { line: usize, message: String },
    #[error("{0}")]
    Other(String),
}

/// The benchmark files' fleet: `count` identical vehicles of capacity `capacity` at the
/// depot, for its opening hours, priced by distance.
pub(crate) fn fleet(
    count: usize,
    capacity: i32,
    depot: crate::model::Location,
    shift: crate::model::TimeWindow,
) -> Vec<crate::model::Vehicle> {
    (0..count)
        .map(|i| crate::model::Vehicle {
            id: format!("{}", i + 1),
            start: depot,
            end: depot,
            shift,
            capacity: vec![capacity],
            skills: Vec::new(),
            max_duration: None,
            break_: None,
            cost_per_distance: 1.0,
            cost_per_time: 0.0,
            fixed_jobs: Vec::new(),
            max_tasks: None,
        })
        .collect()
}
