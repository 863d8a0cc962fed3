//! Password hashing with argon2id, off the async workers: one hash takes tens of
//! milliseconds of CPU by design.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub async fn hash(password: &str) -> Result<String, PasswordError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await?
}

/// False for a wrong password and for a stored hash that does not parse.
pub async fn verify(password: &str, stored_hash: &str) -> Result<bool, PasswordError> {
    let password = password.to_owned();
    let stored_hash = stored_hash.to_owned();
    Ok(tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored_hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await?)
}

/// A new password for the forgot-password mail: 16 alphanumerics, about 95 bits.
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 16)
}

/// An unguessable token (CSRF tokens, request ids).
pub fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored).await.unwrap());
        assert!(!verify("correct horse ", &stored).await.unwrap());
        assert!(!verify("correct horse", "not a hash").await.unwrap());
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate());
    }
}
