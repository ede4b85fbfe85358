//! Pushing, reading and deleting manifests.

use berth_metadata::{ImageRecord, MetadataError, Reference as MetaRef, ReferenceKind};
use berth_oci::{Digest, Manifest, Reference, RepoName, Tag, MAX_MANIFEST_BYTES};
use bytes::Bytes;

use crate::{Registry, RegistryError};

/// The outcome of a manifest push.
#[derive(Debug, Clone)]
pub struct PutManifest {
    pub digest: Digest,
    /// The manifest's subject, reported back in `OCI-Subject`.
    pub subject: Option<Digest>,
    /// Every tag the manifest now has from this push.
    pub tags: Vec<Tag>,
}

/// A manifest as served.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub digest: String,
    pub media_type: String,
    pub content: Bytes,
}

impl Registry {
    /// Stores a manifest under `reference` (a tag, or the digest it must have), plus any
    /// `extra_tags` (the `?tag=` parameters of a push by digest).
    pub async fn put_manifest(
        &self,
        repo: &RepoName,
        reference: &Reference,
        content_type: Option<&str>,
        body: Bytes,
        extra_tags: Vec<Tag>,
        origin: &crate::Origin,
    ) -> Result<PutManifest, RegistryError> {
        self.check_writable()?;
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(RegistryError::ManifestTooLarge {
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let digest = match reference {
            Reference::Digest(expected) => {
                let actual = Digest::of(expected.algorithm(), &body);
                if &actual != expected {
                    return Err(RegistryError::DigestInvalid(format!(
                        "the manifest has digest {actual}, not {expected}"
                    )));
                }
                actual
            }
            Reference::Tag(_) => Digest::sha256(&body),
        };
        let manifest = Manifest::parse(&body, content_type)
            .map_err(|e| RegistryError::ManifestInvalid(e.to_string()))?;
        let mut references: Vec<MetaRef> = manifest
            .blob_references()
            .map(|d| MetaRef {
                target: d.digest.to_string(),
                kind: ReferenceKind::Blob,
            })
            .collect();
        references.extend(manifest.manifests.iter().map(|d| MetaRef {
            target: d.digest.to_string(),
            kind: ReferenceKind::Manifest,
        }));
        references.dedup();
        let annotations = match &manifest.annotations {
            Some(a) if !a.is_empty() => serde_json::to_string(a).ok(),
            _ => None,
        };
        let record = ImageRecord {
            digest: digest.to_string(),
            media_type: manifest.media_type.clone(),
            content: body.to_vec(),
            config_digest: manifest.config.as_ref().map(|c| c.digest.to_string()),
            artifact_type: manifest.effective_artifact_type().map(str::to_string),
            subject_digest: manifest.subject.as_ref().map(|s| s.digest.to_string()),
            annotations,
        };
        let mut tags = extra_tags;
        if let Reference::Tag(t) = reference {
            tags.insert(0, t.clone());
        }
        tags.dedup();
        let tag_names: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let events = self.inner.notifier.events(
            origin,
            crate::Action::Push,
            &crate::Target {
                repository: repo.as_str(),
                media_type: Some(&record.media_type),
                digest: Some(&record.digest),
                size: Some(body.len() as i64),
                tag: match reference {
                    Reference::Tag(t) => Some(t.as_str()),
                    Reference::Digest(_) => None,
                },
                kind: "manifests",
                ..crate::Target::default()
            },
        );
        match self
            .inner
            .meta
            .put_image(repo.as_str(), &record, &references, &tag_names, &events)
            .await
        {
            Ok(()) => {}
            Err(MetadataError::MissingReferences(missing)) => {
                return Err(RegistryError::ManifestBlobUnknown(missing))
            }
            Err(e) => return Err(e.into()),
        }
        Ok(PutManifest {
            digest,
            subject: manifest.subject.map(|s| s.digest),
            tags,
        })
    }

    /// The manifest `reference` names in `repo`.
    pub async fn manifest(
        &self,
        repo: &RepoName,
        reference: &Reference,
    ) -> Result<StoredManifest, RegistryError> {
        let meta = &self.inner.meta;
        let row = match reference {
            Reference::Tag(t) => meta.image_by_tag(repo.as_str(), t.as_str()).await?,
            Reference::Digest(d) => {
                meta.image_in_repository(repo.as_str(), &d.to_string())
                    .await?
            }
        };
        let row = row.ok_or(RegistryError::ManifestUnknown)?;
        Ok(StoredManifest {
            digest: row.digest,
            media_type: row.media_type,
            content: Bytes::from(row.content),
        })
    }

    /// Deletes a manifest (by digest, with every tag pointing at it) or a tag.
    pub async fn delete_manifest(
        &self,
        repo: &RepoName,
        reference: &Reference,
        origin: &crate::Origin,
    ) -> Result<(), RegistryError> {
        self.check_writable()?;
        let meta = &self.inner.meta;
        let notifier = &self.inner.notifier;
        let existed = match reference {
            Reference::Tag(t) => {
                let target = crate::Target {
                    repository: repo.as_str(),
                    tag: Some(t.as_str()),
                    kind: "manifests",
                    ..crate::Target::default()
                };
                let events = notifier.events(origin, crate::Action::Delete, &target);
                meta.delete_tag(repo.as_str(), t.as_str(), &events).await?
            }
            Reference::Digest(d) => {
                let digest = d.to_string();
                let target = crate::Target {
                    repository: repo.as_str(),
                    digest: Some(&digest),
                    kind: "manifests",
                    ..crate::Target::default()
                };
                let events = notifier.events(origin, crate::Action::Delete, &target);
                meta.delete_image(repo.as_str(), &digest, &events).await?
            }
        };
        if existed {
            Ok(())
        } else {
            Err(RegistryError::ManifestUnknown)
        }
    }
}
