//! Integration tests, built into one binary so they share one PostgreSQL server.

#[macro_use]
mod support;

mod backend;
#[cfg(feature = "postgres")]
mod bad_input;
#[cfg(feature = "postgres")]
mod cast_rules;
mod cli;
#[cfg(feature = "postgres")]
mod cli_modes;
#[cfg(feature = "postgres")]
mod cli_transfer;
#[cfg(feature = "postgres")]
mod copy;
mod data_io;
mod dialect;
#[cfg(feature = "postgres")]
mod differential;
mod errors;
#[cfg(feature = "postgres")]
mod fuzz;
#[cfg(feature = "postgres")]
mod hostile;
#[cfg(feature = "postgres")]
mod independent;
mod load;
#[cfg(feature = "postgres")]
mod load_situations;
#[cfg(feature = "postgres")]
mod majors;
#[cfg(feature = "postgres")]
mod meaning;
mod migrations;
mod missions;
#[cfg(feature = "postgres")]
mod orm_beds;
#[cfg(feature = "postgres")]
mod orm_diesel;
#[cfg(feature = "postgres")]
mod orm_full;
#[cfg(feature = "postgres")]
mod orm_full_types;
#[cfg(feature = "postgres")]
mod plan;
mod registry;
mod service;
mod streaming;
mod transactions;
#[cfg(feature = "postgres")]
mod transfer;
#[cfg(feature = "postgres")]
mod triggers;
#[cfg(feature = "postgres")]
mod verify_catches;
#[cfg(feature = "postgres")]
mod verify_in_copy;
#[cfg(feature = "postgres")]
mod virtual_tables;
