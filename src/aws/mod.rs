//! The AWS backend: one adapter per service, found through the naming contract.
