//! Settings shared by every replica (for example the generated `httpSecret`).

use sqlx::Row;

use crate::{Metadata, Result};

impl Metadata {
    /// Returns the stored value of `name`, storing `initial` first when there is none. Every
    /// replica that races here gets the same value.
    pub async fn setting_or_init(&self, name: &str, initial: &str) -> Result<String> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(initial)
        .execute(&mut *w.tx)
        .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *w.tx)
            .await?;
        let value: String = row.try_get("value")?;
        w.commit().await?;
        Ok(value)
    }
}
