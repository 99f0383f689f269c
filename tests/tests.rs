//! Integration tests, built into one binary so they share one PostgreSQL server.

#[macro_use]
mod support;

mod backend;
mod cli;
mod dialect;
mod load;
mod migrations;
mod missions;
mod registry;
