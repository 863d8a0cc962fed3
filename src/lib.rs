//! njtui: the operations console of the Notejam delivery platform.
//!
//! `domain` holds the model every part speaks; `backend` is the seam to an
//! environment, implemented by `sim` (the embedded demo) and `aws`. `ops` is the
//! one path every mutation takes; `commands` and `ui` are the two front ends.

pub mod aws;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect;
pub mod domain;
pub mod ops;
pub mod paths;
pub mod sim;
pub mod terraform;
pub mod ui;
