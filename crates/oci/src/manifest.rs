//! Manifest parsing and validation for the media types Berth accepts: OCI image manifest and
//! index, Docker schema 2 manifest and manifest list, and artifacts (`artifactType`, `subject`).
//!
//! Only the fields the registry acts on are read; unknown fields are kept in the stored bytes,
//! which are never re-serialised.

use crate::digest::Digest;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The largest manifest Berth accepts (SPEC §2).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const OCI_NONDISTRIBUTABLE_PREFIX: &str =
        "application/vnd.oci.image.layer.nondistributable";
    pub const DOCKER_FOREIGN_LAYER: &str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// All manifest media types the registry stores and serves.
    pub const MANIFEST_TYPES: [&str; 4] = [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest (OCI or Docker schema 2): a config and layers.
    Image,
    /// An index (OCI index or Docker manifest list): child manifests.
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    #[error("manifest schemaVersion must be 2")]
    SchemaVersion,
    #[error("manifest media type {0:?} is not supported (Docker schema 1 is refused; use OCI or Docker schema 2)")]
    UnsupportedMediaType(String),
    #[error("manifest mediaType {body:?} does not match the Content-Type {header:?}")]
    MediaTypeMismatch { body: String, header: String },
    #[error("manifest has no mediaType and its kind cannot be told from its fields")]
    UnknownKind,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("descriptor size must not be negative")]
    NegativeSize,
}

/// A content descriptor as it appears in manifests and in the referrers response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

impl Descriptor {
    /// Layers that by design are not pushed to registries: the registry does not require them.
    pub fn is_non_distributable(&self) -> bool {
        self.media_type
            .starts_with(media::OCI_NONDISTRIBUTABLE_PREFIX)
            || self.media_type == media::DOCKER_FOREIGN_LAYER
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<Descriptor>,
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// A parsed, validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub kind: ManifestKind,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    pub manifests: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    /// Parses `bytes` as a manifest. `content_type` is the media type the client declared (the
    /// `Content-Type` of the upload), if any.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
        let raw: RawManifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        let header = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim())
            .filter(|c| media::MANIFEST_TYPES.contains(c) || c.contains("manifest"));
        let media_type = match (&raw.media_type, header) {
            (Some(body), Some(header)) if body != header => {
                return Err(ManifestError::MediaTypeMismatch {
                    body: body.clone(),
                    header: header.to_string(),
                })
            }
            (Some(body), _) => body.clone(),
            (None, Some(header)) => header.to_string(),
            (None, None) if raw.manifests.is_some() => media::OCI_INDEX.to_string(),
            (None, None) if raw.config.is_some() => media::OCI_MANIFEST.to_string(),
            (None, None) => return Err(ManifestError::UnknownKind),
        };
        let kind = match media_type.as_str() {
            media::OCI_MANIFEST | media::DOCKER_MANIFEST => ManifestKind::Image,
            media::OCI_INDEX | media::DOCKER_MANIFEST_LIST => ManifestKind::Index,
            _ => return Err(ManifestError::UnsupportedMediaType(media_type)),
        };
        if raw.schema_version != Some(2) {
            return Err(ManifestError::SchemaVersion);
        }
        let manifest = Manifest {
            kind,
            media_type,
            artifact_type: raw.artifact_type,
            config: raw.config,
            layers: raw.layers.unwrap_or_default(),
            manifests: raw.manifests.unwrap_or_default(),
            subject: raw.subject,
            annotations: raw.annotations,
        };
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), ManifestError> {
        match self.kind {
            ManifestKind::Image => {
                if self.config.is_none() {
                    return Err(ManifestError::Invalid(
                        "an image manifest needs a config descriptor",
                    ));
                }
                if !self.manifests.is_empty() {
                    return Err(ManifestError::Invalid(
                        "an image manifest must not list manifests",
                    ));
                }
            }
            ManifestKind::Index => {
                if self.config.is_some() || !self.layers.is_empty() {
                    return Err(ManifestError::Invalid(
                        "an index must not have a config or layers",
                    ));
                }
            }
        }
        let all = self
            .config
            .iter()
            .chain(&self.layers)
            .chain(&self.manifests)
            .chain(&self.subject);
        for d in all {
            if d.size < 0 {
                return Err(ManifestError::NegativeSize);
            }
        }
        Ok(())
    }

    /// The blobs this manifest needs in its repository (config and distributable layers).
    pub fn blob_references(&self) -> impl Iterator<Item = &Descriptor> {
        self.config
            .iter()
            .chain(self.layers.iter().filter(|l| !l.is_non_distributable()))
    }

    /// The artifact type reported for this manifest in referrers responses: `artifactType`, or
    /// for an image manifest without one, its config media type.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref().or(match self.kind {
            ManifestKind::Image => self.config.as_ref().map(|c| c.media_type.as_str()),
            ManifestKind::Index => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}"#;

    #[test]
    fn parses_oci_manifest_without_media_type() {
        let body = format!(r#"{{"schemaVersion":2,"config":{CFG},"layers":[]}}"#);
        let m = Manifest::parse(body.as_bytes(), None).unwrap();
        assert_eq!(m.kind, ManifestKind::Image);
        assert_eq!(m.media_type, media::OCI_MANIFEST);
        assert_eq!(
            m.effective_artifact_type(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }

    #[test]
    fn refuses_mismatch_and_garbage() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{CFG},"layers":[]}}"#,
            media::OCI_MANIFEST
        );
        assert!(matches!(
            Manifest::parse(body.as_bytes(), Some(media::OCI_INDEX)),
            Err(ManifestError::MediaTypeMismatch { .. })
        ));
        assert!(Manifest::parse(b"{", None).is_err());
        assert!(Manifest::parse(b"[]", None).is_err());
        assert!(Manifest::parse(br#"{"schemaVersion":1,"manifests":[]}"#, None).is_err());
        let schema1 = br#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#;
        assert!(matches!(
            Manifest::parse(schema1, None),
            Err(ManifestError::UnsupportedMediaType(_))
        ));
        let no_config = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;
        assert!(Manifest::parse(no_config, None).is_err());
    }

    #[test]
    fn index_and_subject() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{CFG}],"subject":{CFG}}}"#,
            media::OCI_INDEX
        );
        let m = Manifest::parse(
            body.as_bytes(),
            Some("application/vnd.oci.image.index.v1+json"),
        )
        .unwrap();
        assert_eq!(m.kind, ManifestKind::Index);
        assert_eq!(m.manifests.len(), 1);
        assert!(m.subject.is_some());
        assert_eq!(m.blob_references().count(), 0);
    }
}
