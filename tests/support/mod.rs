//! Test support shared by the integration tests and the fixture generator.
pub mod catalog;
