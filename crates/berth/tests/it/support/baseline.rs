//! Everything a refused request must leave alone, taken before and after it and compared:
//! the catalog, the tag lists of the repositories involved, what chosen GET paths serve (status,
//! key headers and the exact bytes), and every file under the server's storage directory with a
//! hash of its content. Nothing is excluded.

use super::registry::Registry;
use super::TestServer;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// What one GET answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub status: u16,
    /// `range`, `docker-content-digest`, `content-type` and `content-length`, when present.
    pub headers: Vec<(String, String)>,
    /// sha256 of the body, and its length.
    pub body: (String, usize),
}

/// The state to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub catalog: Vec<String>,
    /// Repository → (status of its tag list, tags).
    pub tags: BTreeMap<String, (u16, Vec<String>)>,
    /// GET path → what it served.
    pub served: BTreeMap<String, Served>,
    /// Path relative to the storage directory → sha256 of its content.
    pub files: BTreeMap<String, String>,
}

/// Which repositories and paths to look at, beyond the catalog.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub repos: Vec<String>,
    pub paths: Vec<String>,
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `root`, recursively, with the sha256 of its content.
pub fn storage_files(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                let hash = std::fs::read(&path)
                    .map(|b| hex_sha256(&b))
                    .unwrap_or_else(|e| format!("unreadable: {e}"));
                out.insert(rel, hash);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

async fn served(reg: &Registry, path: &str) -> Served {
    let r = reg.get(path).await;
    let status = r.status().as_u16();
    let headers = [
        "range",
        "docker-content-digest",
        "content-type",
        "content-length",
    ]
    .iter()
    .filter_map(|h| {
        r.headers()
            .get(*h)
            .map(|v| (h.to_string(), v.to_str().unwrap_or("<binary>").to_string()))
    })
    .collect();
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Served {
        status,
        headers,
        body: (hex_sha256(&body), body.len()),
    }
}

impl Watch {
    pub fn new(repos: &[&str], paths: Vec<String>) -> Watch {
        Watch {
            repos: repos.iter().map(|r| r.to_string()).collect(),
            paths,
        }
    }

    pub async fn take(&self, server: &TestServer, reg: &Registry) -> Baseline {
        let catalog = reg.catalog().await;
        let mut tags = BTreeMap::new();
        for repo in catalog.iter().chain(&self.repos) {
            let r = reg.get(&format!("/v2/{repo}/tags/list")).await;
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            let list = body["tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            tags.insert(repo.clone(), (status, list));
        }
        let mut seen = BTreeMap::new();
        for path in &self.paths {
            seen.insert(path.clone(), served(reg, path).await);
        }
        Baseline {
            catalog,
            tags,
            served: seen,
            files: storage_files(&server.storage_dir()),
        }
    }
}

impl Baseline {
    /// How `later` differs from this baseline, one line per difference. Files whose path starts
    /// with one of `may_end` may be gone in `later` (an upload session the request was allowed to
    /// end); everything else must be identical.
    pub fn differences(&self, later: &Baseline, may_end: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        if self.catalog != later.catalog {
            out.push(format!(
                "catalog {:?} became {:?}",
                self.catalog, later.catalog
            ));
        }
        if self.tags != later.tags {
            out.push(format!("tags {:?} became {:?}", self.tags, later.tags));
        }
        for (path, before) in &self.served {
            match later.served.get(path) {
                Some(after) if after == before => {}
                after => out.push(format!("GET {path}: {before:?} became {after:?}")),
            }
        }
        for (file, hash) in &self.files {
            match later.files.get(file) {
                Some(h) if h == hash => {}
                Some(_) => out.push(format!("file {file} changed")),
                None if may_end.iter().any(|p| file.starts_with(p.as_str())) => {}
                None => out.push(format!("file {file} disappeared")),
            }
        }
        for file in later.files.keys() {
            if !self.files.contains_key(file) {
                out.push(format!("file {file} appeared"));
            }
        }
        out
    }
}

/// How a raw request ends on the client side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// Send everything, then read the whole response.
    No,
    /// Send, shut down the writing half (the server reads end-of-file), then read the response.
    HalfClose,
    /// Send, then close the connection at once without reading.
    Drop,
}

/// Sends `request` byte for byte over a fresh connection. Returns the status code (0 when there
/// was no response) and the response text.
pub async fn raw(addr: &str, request: &[u8], hangup: Hangup) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before everything is written; that is not an error here.
    let _ = stream.write_all(request).await;
    let _ = stream.flush().await;
    match hangup {
        Hangup::Drop => {
            drop(stream);
            return (0, String::new());
        }
        Hangup::HalfClose => {
            let _ = stream.shutdown().await;
        }
        Hangup::No => {}
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    let text = String::from_utf8_lossy(&response).to_string();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}
