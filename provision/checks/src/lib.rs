//! Offline checks of the Terraform under `provision/`.
