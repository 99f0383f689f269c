//! Planner decisions checked on facts built by hand, without a database.
