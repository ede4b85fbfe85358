//! Paged listings: tags of a repository, the catalog, referrers of a subject. Each page is one
//! SQL query bounded by the page size, whatever the size of the store.

use berth_oci::{Digest, RepoName};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::{Registry, RegistryError};

/// The largest page any listing returns.
pub const MAX_PAGE: i64 = 100_000;

/// One entry of a referrers response (an OCI descriptor).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Referrer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Registry {
    /// A page of `repo`'s tags after `last`. `limit` is capped at [`MAX_PAGE`]. A repository that
    /// does not exist is NAME_UNKNOWN.
    pub async fn tags(
        &self,
        repo: &RepoName,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, RegistryError> {
        let limit = limit.clamp(0, MAX_PAGE);
        let tags = self
            .inner
            .meta
            .list_tags(repo.as_str(), last, limit)
            .await?;
        if tags.is_empty() && !self.inner.meta.repository_exists(repo.as_str()).await? {
            return Err(RegistryError::NameUnknown);
        }
        Ok(tags)
    }

    /// A page of repository names after `last`, only from `projects` when given (what the
    /// caller may pull from).
    pub async fn catalog(
        &self,
        projects: Option<&[String]>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, RegistryError> {
        Ok(self
            .inner
            .meta
            .catalog_in(projects, last, limit.clamp(0, MAX_PAGE))
            .await?)
    }

    /// A page of the manifests in `repo` whose subject is `subject`, optionally of one artifact type.
    pub async fn referrers(
        &self,
        repo: &RepoName,
        subject: &Digest,
        artifact_type: Option<&str>,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Referrer>, RegistryError> {
        let rows = self
            .inner
            .meta
            .referrers(
                repo.as_str(),
                &subject.to_string(),
                artifact_type,
                last,
                limit.clamp(1, MAX_PAGE),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Referrer {
                media_type: r.media_type,
                digest: r.digest,
                size: r.size,
                artifact_type: r.artifact_type,
                annotations: r.annotations.and_then(|a| serde_json::from_str(&a).ok()),
            })
            .collect())
    }
}
