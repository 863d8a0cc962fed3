//! Notes: one user's texts, optionally in one of that user's pads. Every query is
//! scoped to the owner.

use sqlx::Row;

use super::{Db, now_millis};

/// A note as listed: without its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSummary {
    pub id: i64,
    pub name: String,
    pub pad_id: Option<i64>,
    pub pad_name: Option<String>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub name: String,
    pub text: String,
    pub pad_id: Option<i64>,
    pub pad_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn summary(row: sqlx::any::AnyRow) -> Result<NoteSummary, sqlx::Error> {
    Ok(NoteSummary {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        pad_id: row.try_get(2)?,
        pad_name: row.try_get(3)?,
        updated_at: row.try_get(4)?,
    })
}

impl Db {
    /// All the user's notes, unsorted: lists are sorted in memory (see `content`).
    pub async fn notes_of(&self, user_id: i64) -> Result<Vec<NoteSummary>, sqlx::Error> {
        sqlx::query(
            "SELECT n.id, n.name, n.pad_id, p.name, n.updated_at \
             FROM notes n LEFT JOIN pads p ON p.id = n.pad_id WHERE n.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(summary)
        .collect()
    }

    pub async fn note(&self, user_id: i64, note_id: i64) -> Result<Option<Note>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT n.id, n.name, n.text, n.pad_id, p.name, n.created_at, n.updated_at \
             FROM notes n LEFT JOIN pads p ON p.id = n.pad_id \
             WHERE n.id = $1 AND n.user_id = $2",
        )
        .bind(note_id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Note {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                text: row.try_get(2)?,
                pad_id: row.try_get(3)?,
                pad_name: row.try_get(4)?,
                created_at: row.try_get(5)?,
                updated_at: row.try_get(6)?,
            })
        })
        .transpose()
    }

    /// `pad_id` must already be known to be the user's; the schema refuses it otherwise.
    pub async fn create_note(
        &self,
        user_id: i64,
        pad_id: Option<i64>,
        name: &str,
        text: &str,
    ) -> Result<i64, sqlx::Error> {
        let now = now_millis();
        sqlx::query(
            "INSERT INTO notes (user_id, pad_id, name, text, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(pad_id)
        .bind(name)
        .bind(text)
        .bind(now)
        .fetch_one(self.pool())
        .await?
        .try_get(0)
    }

    /// False when the user has no such note.
    pub async fn update_note(
        &self,
        user_id: i64,
        note_id: i64,
        pad_id: Option<i64>,
        name: &str,
        text: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE notes SET pad_id = $1, name = $2, text = $3, updated_at = $4 \
             WHERE id = $5 AND user_id = $6",
        )
        .bind(pad_id)
        .bind(name)
        .bind(text)
        .bind(now_millis())
        .bind(note_id)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// False when the user has no such note.
    pub async fn delete_note(&self, user_id: i64, note_id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM notes WHERE id = $1 AND user_id = $2")
            .bind(note_id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
