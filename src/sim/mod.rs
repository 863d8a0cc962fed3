//! The embedded simulated environment behind `--env demo`.
