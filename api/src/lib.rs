//! The claimroute server: warranty claims from filing to the courier at the door.

pub mod auth;
pub mod config;
pub mod courier;
pub mod db;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod extract;
pub mod import;
pub mod loadgen;
pub mod messages;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod workflow;
