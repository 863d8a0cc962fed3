//! Users: an email (stored lower-cased, unique) and an argon2 password hash.

use sqlx::Row;

use super::{Db, now_millis};

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// Bumped with every password change; sessions from before no longer count.
    pub session_epoch: i64,
}

fn from_row(row: sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        password_hash: row.try_get(2)?,
        session_epoch: row.try_get(3)?,
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
        sqlx::query("SELECT id, email, password_hash, session_epoch FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(self.pool())
            .await?
            .map(from_row)
            .transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        sqlx::query("SELECT id, email, password_hash, session_epoch FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(from_row)
            .transpose()
    }

    /// Sets a new password and ends the user's sessions; returns the new session epoch.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1 \
             WHERE id = $2 RETURNING session_epoch",
        )
        .bind(hash)
        .bind(user_id)
        .fetch_one(self.pool())
        .await?
        .try_get(0)
    }

    /// The user's session epoch; `None` when the account no longer exists.
    pub async fn session_epoch(&self, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT session_epoch FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await
    }
}
