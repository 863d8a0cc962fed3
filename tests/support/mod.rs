//! Test harness for the AWS backend: a moto server per test binary, seeding of
//! environments per the naming contract, and clients with mocked responses.
// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub mod mocks;
pub mod moto;
pub mod seed;
