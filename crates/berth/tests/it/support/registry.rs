//! A small registry API client for tests: push blobs and manifests the way clients do, and read
//! the OCI error envelope.

use reqwest::{Client, Response, StatusCode};
use sha2::{Digest as _, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The `code` of the first error in an OCI error envelope.
pub async fn error_code(response: Response) -> String {
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_string()
}

pub struct Registry {
    pub base: String,
    pub http: Client,
}

/// An image as pushed: its manifest bytes and digest, and its blobs.
pub struct Image {
    pub manifest: Vec<u8>,
    pub digest: String,
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
}

impl Image {
    /// An image whose config and layers are generated from `seed`.
    pub fn generated(seed: u64, layers: usize) -> Image {
        let config =
            format!(r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#).into_bytes();
        let layers: Vec<Vec<u8>> = (0..layers)
            .map(|i| bytes(seed * 100 + i as u64, 1000 + i * 10))
            .collect();
        let layer_descs: Vec<serde_json::Value> = layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": OCI_LAYER, "digest": sha256(l), "size": l.len()}))
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(&config), "size": config.len()},
            "layers": layer_descs,
        }))
        .expect("json");
        Image {
            digest: sha256(&manifest),
            manifest,
            config,
            layers,
        }
    }

    pub fn blobs(&self) -> impl Iterator<Item = &Vec<u8>> {
        std::iter::once(&self.config).chain(self.layers.iter())
    }
}

impl Registry {
    pub fn new(base: &str) -> Registry {
        Registry {
            base: base.to_string(),
            http: Client::new(),
        }
    }

    /// A client that sends `authorization` (for example `Bearer <token>`) with every request.
    pub fn authorized(base: &str, authorization: &str) -> Registry {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            authorization.parse().expect("authorization header"),
        );
        Registry {
            base: base.to_string(),
            http: Client::builder()
                .default_headers(headers)
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// Monolithic push: `POST /v2/<repo>/blobs/uploads/?digest=` with the body.
    pub async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .expect("POST blob");
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "push_blob: {}",
            r.text().await.unwrap_or_default()
        );
        digest
    }

    /// Starts an upload session; returns its Location.
    pub async fn start_upload(&self, repo: &str) -> String {
        let r = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/")))
            .send()
            .await
            .expect("POST upload");
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string()
    }

    /// Chunked push: POST, one PATCH per chunk with `Content-Range`, then PUT with the digest.
    pub async fn push_blob_chunked(&self, repo: &str, data: &[u8], chunk: usize) -> String {
        let digest = sha256(data);
        let mut location = self.start_upload(repo).await;
        for (i, piece) in data.chunks(chunk.max(1)).enumerate() {
            let start = i * chunk;
            let r = self
                .http
                .patch(self.url(&location))
                .header("content-type", "application/octet-stream")
                .header(
                    "content-range",
                    format!("{start}-{}", start + piece.len() - 1),
                )
                .body(piece.to_vec())
                .send()
                .await
                .expect("PATCH");
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            location = r.headers()["location"]
                .to_str()
                .expect("location")
                .to_string();
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let r = self
            .http
            .put(self.url(&format!("{location}{sep}digest={digest}")))
            .send()
            .await
            .expect("PUT");
        assert_eq!(r.status(), StatusCode::CREATED);
        digest
    }

    pub async fn put_manifest_raw(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Response {
        self.http
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .expect("PUT manifest")
    }

    /// Pushes every blob of `image`, then its manifest under `reference`.
    pub async fn push_image(&self, repo: &str, reference: &str, image: &Image) {
        for blob in image.blobs() {
            self.push_blob(repo, blob).await;
        }
        let r = self
            .put_manifest_raw(repo, reference, OCI_MANIFEST, &image.manifest)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "push_image: {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn head(&self, path: &str) -> Response {
        self.http.head(self.url(path)).send().await.expect("HEAD")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.http
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn tags(&self, repo: &str) -> Vec<String> {
        let r = self.get(&format!("/v2/{repo}/tags/list")).await;
        if r.status() == StatusCode::NOT_FOUND {
            return Vec::new();
        }
        let body: serde_json::Value = r.json().await.expect("tags JSON");
        body["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn catalog(&self) -> Vec<String> {
        let body: serde_json::Value = self
            .get("/v2/_catalog")
            .await
            .json()
            .await
            .expect("catalog JSON");
        body["repositories"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}
