//! Pads: named groups of one user's notes. Every query is scoped to the owner, so
//! another user's pad is indistinguishable from a missing one.

use sqlx::Row;

use super::Db;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pad {
    pub id: i64,
    pub name: String,
}

fn from_row(row: sqlx::any::AnyRow) -> Result<Pad, sqlx::Error> {
    Ok(Pad {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
    })
}

impl Db {
    /// The user's pads, unsorted (see `content`).
    pub async fn pads_of(&self, user_id: i64) -> Result<Vec<Pad>, sqlx::Error> {
        sqlx::query("SELECT id, name FROM pads WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(from_row)
            .collect()
    }

    pub async fn create_pad(&self, user_id: i64, name: &str) -> Result<i64, sqlx::Error> {
        sqlx::query("INSERT INTO pads (user_id, name) VALUES ($1, $2) RETURNING id")
            .bind(user_id)
            .bind(name)
            .fetch_one(self.pool())
            .await?
            .try_get(0)
    }

    /// False when the user has no such pad.
    pub async fn rename_pad(
        &self,
        user_id: i64,
        pad_id: i64,
        name: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE pads SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(pad_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the pad and its notes together. False when the user has no such pad.
    pub async fn delete_pad(&self, user_id: i64, pad_id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        // Explicit rather than left to ON DELETE CASCADE alone, so the outcome does not
        // hang on a connection setting (SQLite's foreign_keys pragma).
        sqlx::query("DELETE FROM notes WHERE pad_id = $1 AND user_id = $2")
            .bind(pad_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM pads WHERE id = $1 AND user_id = $2")
            .bind(pad_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
