//! OCI image layouts built from generated files, for pushing with real clients: an image with
//! several tar layers, a two-platform index, and the helpers to read a layout back.

use super::registry::{bytes, sha256, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A generated file: its path inside the image and its bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Files of one layer, generated from a seed.
pub fn files(seed: u64, count: usize) -> Files {
    (0..count)
        .map(|i| {
            let name = format!("data/seed{seed}/file{i}.bin");
            (name, bytes(seed * 1000 + i as u64, 4096 + 777 * i))
        })
        .collect()
}

/// An uncompressed tar holding `files`.
pub fn tar_of(files: &Files) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder
            .append_data(&mut header, name, data.as_slice())
            .expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

/// The regular files in a tar (gzip-compressed or not).
pub fn untar(blob: &[u8]) -> Files {
    let raw = if blob.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(blob), &mut out)
            .expect("gunzip");
        out
    } else {
        blob.to_vec()
    };
    let mut archive = tar::Archive::new(raw.as_slice());
    let mut found = Files::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.header().entry_type().is_file() {
            let path = entry
                .path()
                .expect("path")
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).expect("read entry");
            found.insert(path, data);
        }
    }
    found
}

/// An OCI image layout directory being written.
pub struct Layout {
    pub dir: PathBuf,
    index: Vec<Value>,
}

/// A descriptor of something written into a layout.
#[derive(Clone, Debug)]
pub struct Written {
    pub digest: String,
    pub size: usize,
    pub media_type: String,
}

impl Written {
    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

impl Layout {
    pub fn create(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout dir");
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        Layout {
            dir: dir.to_path_buf(),
            index: Vec::new(),
        }
    }

    pub fn blob(&self, media_type: &str, data: &[u8]) -> Written {
        let digest = sha256(data);
        let path = self
            .dir
            .join("blobs/sha256")
            .join(&digest["sha256:".len()..]);
        std::fs::write(path, data).expect("blob");
        Written {
            digest,
            size: data.len(),
            media_type: media_type.to_string(),
        }
    }

    /// Writes an image of one layer per entry of `layers`, for `arch`.
    pub fn image(&self, layers: &[Files], arch: &str) -> Written {
        let tars: Vec<Vec<u8>> = layers.iter().map(tar_of).collect();
        let diff_ids: Vec<String> = tars.iter().map(|t| sha256(t)).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"], "Labels": {"built-by": "berth-tests"}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": tars.iter().map(|_| json!({"created_by": "berth test"})).collect::<Vec<_>>(),
        }))
        .expect("config");
        let config = self.blob(OCI_CONFIG, &config);
        let layer_descs: Vec<Value> = tars
            .iter()
            .map(|t| self.blob(OCI_LAYER, t).descriptor())
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": layer_descs,
        }))
        .expect("manifest");
        self.blob(OCI_MANIFEST, &manifest)
    }

    /// Writes an index of `manifests`, each with its platform.
    pub fn index(&self, manifests: &[(Written, &str)]) -> Written {
        let entries: Vec<Value> = manifests
            .iter()
            .map(|(w, arch)| {
                let mut d = w.descriptor();
                d["platform"] = json!({"architecture": arch, "os": "linux"});
                d
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": entries,
        }))
        .expect("index");
        self.blob(OCI_INDEX, &index)
    }

    /// Names `written` as `tag` in the layout's index.json.
    pub fn tag(&mut self, written: &Written, tag: &str) {
        let mut d = written.descriptor();
        d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        self.index.push(d);
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.index});
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).expect("json"),
        )
        .expect("index.json");
    }
}

/// Reads blob `digest` from a layout directory.
pub fn read_blob(dir: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.trim_start_matches("sha256:");
    std::fs::read(dir.join("blobs/sha256").join(hex))
        .unwrap_or_else(|e| panic!("blob {digest} in {dir:?}: {e}"))
}

/// The digest index.json of a layout names as `tag`.
pub fn tagged(dir: &Path, tag: &str) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json"))
            .expect("json");
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    let named = manifests
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .or(if manifests.len() == 1 {
            manifests.first()
        } else {
            None
        });
    named
        .and_then(|m| m["digest"].as_str())
        .unwrap_or_else(|| panic!("no {tag} in {dir:?}"))
        .to_string()
}

/// Every blob a manifest or index reaches, recursively, with the manifest itself.
pub fn closure(dir: &Path, digest: &str) -> Vec<String> {
    let mut out = vec![digest.to_string()];
    let doc: Value = serde_json::from_slice(&read_blob(dir, digest)).expect("manifest json");
    for d in doc["manifests"].as_array().into_iter().flatten() {
        out.extend(closure(dir, d["digest"].as_str().expect("digest")));
    }
    if let Some(c) = doc["config"]["digest"].as_str() {
        out.push(c.to_string());
    }
    for l in doc["layers"].as_array().into_iter().flatten() {
        out.push(l["digest"].as_str().expect("digest").to_string());
    }
    out
}
