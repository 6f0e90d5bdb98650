//! Test support shared by the integration tests and the fixture generator.
#![allow(dead_code)] // each test binary uses a different part

pub mod catalog;
pub mod db;
