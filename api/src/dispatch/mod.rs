//! Dispatch: turning the day's jobs into courier routes with the planner, letting
//! dispatchers review and edit them, and publishing them to the couriers.

pub mod edit;
pub mod input;
pub mod publish;
pub mod runner;
pub mod solution;
pub mod view;
