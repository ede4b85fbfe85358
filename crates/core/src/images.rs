//! Images as the API shows them: the manifest's layers and the image configuration (read from
//! its blob), for `Image` resources and image stream tags.

use berth_metadata::ImageDetailRow;
use futures::TryStreamExt;
use serde_json::Value;

use crate::{Registry, RegistryError};

/// Largest image configuration read for display.
const MAX_CONFIG: i64 = 1024 * 1024;

/// One layer as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub digest: String,
    pub size: i64,
    pub media_type: String,
}

/// An image with its layers and configuration.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub row: ImageDetailRow,
    pub layers: Vec<Layer>,
    /// The image configuration (architecture, os, created, config{Env, Labels, …}), when the
    /// manifest has one that is stored and small enough.
    pub config: Option<Value>,
    pub config_size: i64,
}

impl ImageInfo {
    /// Manifest, configuration and layers together.
    pub fn total_size(&self) -> i64 {
        self.row.size + self.config_size + self.layers.iter().map(|l| l.size).sum::<i64>()
    }
}

impl Registry {
    /// The layers and configuration of an image.
    pub async fn image_info(&self, row: ImageDetailRow) -> Result<ImageInfo, RegistryError> {
        let manifest: Value = serde_json::from_slice(&row.content).unwrap_or(Value::Null);
        let layers = manifest["layers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|l| Layer {
                        digest: l["digest"].as_str().unwrap_or_default().to_string(),
                        size: l["size"].as_i64().unwrap_or(0),
                        media_type: l["mediaType"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let blob = match &row.config_digest {
            Some(d) => self.inner.meta.blob(d).await?,
            None => None,
        };
        let config_size = blob.as_ref().map(|b| b.size).unwrap_or(0);
        let config = match blob {
            Some(b) if b.size <= MAX_CONFIG => self.blob_json(&b).await?,
            _ => None,
        };
        Ok(ImageInfo {
            row,
            layers,
            config,
            config_size,
        })
    }

    async fn blob_json(
        &self,
        blob: &berth_metadata::BlobRow,
    ) -> Result<Option<Value>, RegistryError> {
        let stream = self
            .inner
            .store
            .read(&blob.object_key, 0, blob.size as u64)
            .await?;
        let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
        let bytes: Vec<u8> = chunks.concat();
        Ok(serde_json::from_slice(&bytes).ok())
    }
}
