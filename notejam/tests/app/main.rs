//! Handler and model tests, each run on SQLite and on a real PostgreSQL 15.

mod common;
mod pg;

mod accounts;
mod hostile_input;
mod notes;
mod pads;
mod platform;
