//! Users: an email (stored lower-cased, unique) and an argon2 password hash.

use sqlx::Row;

use super::{Db, now_millis};

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
}

fn from_row(row: sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        password_hash: row.try_get(2)?,
    })
}

impl Db {
    /// Fails with a unique violation (see [`super::is_unique_violation`]) when the email is taken.
    pub async fn create_user(&self, email: &str, password_hash: &str) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(email)
        .bind(password_hash)
        .bind(now_millis())
        .fetch_one(self.pool())
        .await?
        .try_get(0)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, sqlx::Error> {
        sqlx::query("SELECT id, email, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(self.pool())
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        sqlx::query("SELECT id, email, password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(self.pool())
            .await
            .map(|_| ())
    }
}
