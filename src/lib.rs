//! njtui: the operations console of the Notejam delivery platform.
//!
//! `domain` holds the model every part speaks; `backend` is the seam to an
//! environment, implemented by `sim` (the embedded demo) and `aws`.

pub mod aws;
pub mod backend;
pub mod domain;
pub mod paths;
pub mod sim;
pub mod terraform;
