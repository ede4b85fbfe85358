//! What a bad request must not change: the catalog, the tags of every repository, and the files
//! under the server's storage directory.

use super::registry::Registry;
use super::TestServer;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub catalog: Vec<String>,
    pub tags: BTreeMap<String, Vec<String>>,
    pub files: Vec<String>,
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
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
            // The SQLite database and its journal change on every write, including refused ones
            // that only read; they are covered by the catalog and tag comparisons.
            if !rel.starts_with("berth.db") {
                out.push(rel);
            }
        }
    }
}

pub async fn take(server: &TestServer, reg: &Registry) -> Snapshot {
    let catalog = reg.catalog().await;
    let mut tags = BTreeMap::new();
    for repo in &catalog {
        tags.insert(repo.clone(), reg.tags(repo).await);
    }
    let mut files = Vec::new();
    walk(&server.storage_dir(), &server.storage_dir(), &mut files);
    files.sort();
    Snapshot {
        catalog,
        tags,
        files,
    }
}

/// Sends raw bytes over a fresh connection and returns the status line's code and the response.
pub async fn raw_request(addr: &str, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
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
