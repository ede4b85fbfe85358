//! Users, service accounts, API tokens and role bindings: the rows access control decides by.
//! The decisions themselves live in `berth-access`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::repositories::placeholders;
use crate::{now_millis, Metadata, MetadataError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub uid: String,
    pub password_hash: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRow {
    pub project: String,
    pub name: String,
    pub uid: String,
    pub created_at: i64,
}

/// An API token as stored: never its secret, only the secret's SHA-256. The owner is a user or
/// a service account (`sa_project`, `sa_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: String,
    pub user_name: Option<String>,
    pub sa_project: Option<String>,
    pub sa_name: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub id: &'a str,
    pub secret_sha256: &'a str,
    pub user_name: Option<&'a str>,
    pub service_account: Option<(&'a str, &'a str)>,
    pub expires_at: Option<i64>,
}

/// One subject bound to one role; `project` is empty for cluster-wide bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    pub project: String,
    pub role: String,
    pub subject_kind: String,
    pub subject: String,
}

fn user_row(row: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        name: row.try_get("name")?,
        uid: row.try_get("uid")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
    })
}

fn sa_row(row: &AnyRow) -> Result<ServiceAccountRow> {
    Ok(ServiceAccountRow {
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        uid: row.try_get("uid")?,
        created_at: row.try_get("created_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, user_name, sa_project, sa_name, created_at, expires_at";

fn token_row(row: &AnyRow) -> Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: row.try_get("id")?,
        user_name: row.try_get("user_name")?,
        sa_project: row.try_get("sa_project")?,
        sa_name: row.try_get("sa_name")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn binding_row(row: &AnyRow) -> Result<BindingRow> {
    Ok(BindingRow {
        project: row.try_get("project")?,
        role: row.try_get("role")?,
        subject_kind: row.try_get("subject_kind")?,
        subject: row.try_get("subject")?,
    })
}

pub(crate) async fn insert_binding(
    conn: &mut AnyConnection,
    project: &str,
    role: &str,
    kind: &str,
    subject: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO role_bindings (project, role, subject_kind, subject, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, role, subject_kind, subject) DO NOTHING",
    )
    .bind(project)
    .bind(role)
    .bind(kind)
    .bind(subject)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Bindings name an existing project (or `""`, cluster-wide). The check runs in the binding's
/// transaction; a project deleted concurrently takes its bindings with it.
/// The project row is locked `FOR SHARE` (on PostgreSQL) until the binding commits, so a
/// concurrent delete of the project either happens first (and the binding is refused) or waits
/// and then removes the binding with the project.
pub(crate) async fn project_must_exist(w: &mut crate::WriteTx, project: &str) -> Result<()> {
    if project.is_empty() {
        return Ok(());
    }
    let lock = w.for_share();
    if crate::projects::project_exists(&mut w.tx, project, lock).await? {
        Ok(())
    } else {
        Err(MetadataError::NotFound(format!("project {project}")))
    }
}

impl Metadata {
    // ---- users ----

    /// Creates a user; [`MetadataError::AlreadyExists`] when the name is taken.
    pub async fn create_user(&self, name: &str, password_hash: Option<&str>) -> Result<UserRow> {
        let user = UserRow {
            name: name.to_string(),
            uid: uuid::Uuid::new_v4().to_string(),
            password_hash: password_hash.map(str::to_string),
            created_at: now_millis(),
        };
        let mut w = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO users (name, uid, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&user.name)
        .bind(&user.uid)
        .bind(user.password_hash.as_deref())
        .bind(user.created_at)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(MetadataError::AlreadyExists(format!("user {name}")));
        }
        w.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let row =
            sqlx::query("SELECT name, uid, password_hash, created_at FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let rows =
            sqlx::query("SELECT name, uid, password_hash, created_at FROM users ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_row).collect()
    }

    /// Deletes a user, its tokens and its bindings.
    pub async fn delete_user(&self, name: &str) -> Result<bool> {
        let mut w = self.write().await?;
        sqlx::query("DELETE FROM role_bindings WHERE subject_kind = 'User' AND subject = $1")
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// True when there is no user yet: the first start, which bootstraps an administrator.
    pub async fn has_users(&self) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM users LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    // ---- service accounts ----

    pub async fn create_service_account(
        &self,
        project: &str,
        name: &str,
    ) -> Result<ServiceAccountRow> {
        let sa = ServiceAccountRow {
            project: project.to_string(),
            name: name.to_string(),
            uid: uuid::Uuid::new_v4().to_string(),
            created_at: now_millis(),
        };
        let mut w = self.write().await?;
        project_must_exist(&mut w, project).await?;
        let done = sqlx::query(
            "INSERT INTO service_accounts (project, name, uid, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project, name) DO NOTHING",
        )
        .bind(project)
        .bind(name)
        .bind(&sa.uid)
        .bind(sa.created_at)
        .execute(&mut *w.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(MetadataError::AlreadyExists(format!(
                "service account {project}/{name}"
            )));
        }
        w.commit().await?;
        Ok(sa)
    }

    pub async fn service_account(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<ServiceAccountRow>> {
        let row = sqlx::query(
            "SELECT project, name, uid, created_at FROM service_accounts WHERE project = $1 AND name = $2",
        )
        .bind(project)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sa_row).transpose()
    }

    pub async fn service_accounts(&self, project: &str) -> Result<Vec<ServiceAccountRow>> {
        let rows = sqlx::query(
            "SELECT project, name, uid, created_at FROM service_accounts WHERE project = $1 ORDER BY name",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sa_row).collect()
    }

    /// Deletes a service account, its tokens and its bindings.
    pub async fn delete_service_account(&self, project: &str, name: &str) -> Result<bool> {
        let mut w = self.write().await?;
        sqlx::query("DELETE FROM role_bindings WHERE subject_kind = 'User' AND subject = $1")
            .bind(format!("system:serviceaccount:{project}:{name}"))
            .execute(&mut *w.tx)
            .await?;
        let done = sqlx::query("DELETE FROM service_accounts WHERE project = $1 AND name = $2")
            .bind(project)
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- API tokens ----

    /// Stores a token. The owner must exist ([`MetadataError::NotFound`] otherwise).
    pub async fn create_api_token(&self, t: &NewApiToken<'_>) -> Result<ApiTokenRow> {
        let row = ApiTokenRow {
            id: t.id.to_string(),
            user_name: t.user_name.map(str::to_string),
            sa_project: t.service_account.map(|(p, _)| p.to_string()),
            sa_name: t.service_account.map(|(_, n)| n.to_string()),
            created_at: now_millis(),
            expires_at: t.expires_at,
        };
        let mut w = self.write().await?;
        let owner_exists = match t.service_account {
            Some((project, name)) => sqlx::query(
                "SELECT 1 AS one FROM service_accounts WHERE project = $1 AND name = $2",
            )
            .bind(project)
            .bind(name)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some(),
            None => sqlx::query("SELECT 1 AS one FROM users WHERE name = $1")
                .bind(t.user_name.unwrap_or(""))
                .fetch_optional(&mut *w.tx)
                .await?
                .is_some(),
        };
        if !owner_exists {
            let owner = match t.service_account {
                Some((p, n)) => format!("service account {p}/{n}"),
                None => format!("user {}", t.user_name.unwrap_or("")),
            };
            return Err(MetadataError::NotFound(owner));
        }
        sqlx::query(
            "INSERT INTO api_tokens (id, secret_sha256, user_name, sa_project, sa_name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(t.secret_sha256)
        .bind(row.user_name.as_deref())
        .bind(row.sa_project.as_deref())
        .bind(row.sa_name.as_deref())
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(row)
    }

    /// The live (unexpired) token whose secret hashes to `secret_sha256`.
    pub async fn api_token_by_secret(&self, secret_sha256: &str) -> Result<Option<ApiTokenRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_sha256 = $1 \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(secret_sha256)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    /// The live (unexpired) token `id`.
    pub async fn api_token(&self, id: &str) -> Result<Option<ApiTokenRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1 \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(id)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    /// Tokens, newest first: all, a user's, or those of a project's service accounts.
    pub async fn api_tokens(
        &self,
        user: Option<&str>,
        sa_project: Option<&str>,
    ) -> Result<Vec<ApiTokenRow>> {
        let (filter, value) = match (user, sa_project) {
            (Some(u), _) => ("WHERE user_name = $1", u),
            (None, Some(p)) => ("WHERE sa_project = $1", p),
            (None, None) => ("WHERE $1 = $1", ""),
        };
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens {filter} ORDER BY created_at DESC, id"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }

    pub async fn delete_api_token(&self, id: &str) -> Result<bool> {
        let mut w = self.write().await?;
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- role bindings ----

    /// The roles bound in `project` or cluster-wide to the user `subject` or any of `groups`.
    pub async fn roles_of(
        &self,
        project: &str,
        subject: &str,
        groups: &[String],
    ) -> Result<Vec<String>> {
        let group_list = placeholders(3, groups.len().max(1));
        let sql = format!(
            "SELECT DISTINCT role FROM role_bindings WHERE project IN ('', $1) AND \
             ((subject_kind = 'User' AND subject = $2) OR (subject_kind = 'Group' AND subject IN ({group_list})))"
        );
        let mut q = sqlx::query(&sql).bind(project).bind(subject);
        if groups.is_empty() {
            q = q.bind("");
        }
        for g in groups {
            q = q.bind(g.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("role")?))
            .collect()
    }

    /// Every project in which the user `subject` or one of `groups` holds one of `roles`.
    pub async fn projects_with_roles(
        &self,
        subject: &str,
        groups: &[String],
        roles: &[&str],
    ) -> Result<Vec<String>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let group_list = placeholders(2, groups.len().max(1));
        let first_role = 2 + groups.len().max(1);
        let role_list = placeholders(first_role, roles.len());
        let sql = format!(
            "SELECT DISTINCT b.project AS project FROM role_bindings b JOIN projects p ON p.name = b.project \
             WHERE ((b.subject_kind = 'User' AND b.subject = $1) OR (b.subject_kind = 'Group' AND b.subject IN ({group_list}))) \
             AND b.role IN ({role_list}) ORDER BY b.project"
        );
        let mut q = sqlx::query(&sql).bind(subject);
        if groups.is_empty() {
            q = q.bind("");
        }
        for g in groups {
            q = q.bind(g.as_str());
        }
        for r in roles {
            q = q.bind(*r);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("project")?))
            .collect()
    }

    /// The bindings of a project (`""`: the cluster-wide ones), optionally of one role.
    pub async fn bindings(&self, project: &str, role: Option<&str>) -> Result<Vec<BindingRow>> {
        let rows = sqlx::query(
            "SELECT project, role, subject_kind, subject FROM role_bindings \
             WHERE project = $1 AND ($2 = '' OR role = $2) ORDER BY role, subject_kind, subject",
        )
        .bind(project)
        .bind(role.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(binding_row).collect()
    }

    /// Adds subjects (`(kind, name)`) to a role's binding in `project` (`""`: cluster-wide).
    pub async fn add_bindings(
        &self,
        project: &str,
        role: &str,
        subjects: &[(String, String)],
    ) -> Result<()> {
        let mut w = self.write().await?;
        project_must_exist(&mut w, project).await?;
        let now = now_millis();
        for (kind, subject) in subjects {
            insert_binding(&mut w.tx, project, role, kind, subject, now).await?;
        }
        w.commit().await
    }

    /// Makes `subjects` the whole of a role's binding in `project`.
    pub async fn replace_bindings(
        &self,
        project: &str,
        role: &str,
        subjects: &[(String, String)],
    ) -> Result<()> {
        let mut w = self.write().await?;
        if !subjects.is_empty() {
            project_must_exist(&mut w, project).await?;
        }
        sqlx::query("DELETE FROM role_bindings WHERE project = $1 AND role = $2")
            .bind(project)
            .bind(role)
            .execute(&mut *w.tx)
            .await?;
        let now = now_millis();
        for (kind, subject) in subjects {
            insert_binding(&mut w.tx, project, role, kind, subject, now).await?;
        }
        w.commit().await
    }

    /// Adds cluster-wide bindings only if none exist yet for that role and subject; used once at
    /// the first start, by whichever replica gets there first.
    pub async fn ensure_cluster_binding(
        &self,
        role: &str,
        kind: &str,
        subject: &str,
    ) -> Result<()> {
        let mut w = self.write().await?;
        insert_binding(&mut w.tx, "", role, kind, subject, now_millis()).await?;
        w.commit().await
    }
}
