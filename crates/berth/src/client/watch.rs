//! `berth get is|images -w`: the current objects, then each change as it happens, read from a
//! `?watch=true` stream of newline-delimited events. Ends when the server ends the watch or on
//! Ctrl-C.

use serde_json::Value;

use super::commands::print;
use super::get::render_table;
use super::output::{structured, Format};
use super::{ClientError, Session};

pub(super) async fn watch(
    s: &Session,
    kind: &str,
    path: &str,
    name: Option<&str>,
    format: Format,
) -> Result<(), ClientError> {
    if !matches!(kind, "imagestream" | "image") {
        return Err(ClientError::usage(
            "only image streams (is) and images can be watched",
        ));
    }
    let separator = if path.contains('?') { '&' } else { '?' };
    let url = format!("{}{path}{separator}watch=true", s.server);
    // No overall timeout: a watch lasts as long as the server keeps it open.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(s.insecure)
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ClientError::new(format!("cannot set up HTTP: {e}")))?;
    let mut request = http.get(&url);
    if let Some(token) = &s.token {
        request = request.bearer_auth(token);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| ClientError::new(format!("cannot reach the server {}: {e}", s.server)))?;
    if !response.status().is_success() {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered {status}"));
        return Err(ClientError::new(format!("error: {message}")));
    }
    let mut buffer: Vec<u8> = Vec::new();
    let mut header_printed = false;
    loop {
        let chunk = tokio::select! {
            c = response.chunk() => c.map_err(|e| ClientError::new(format!("the watch broke off: {e}")))?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(chunk) = chunk else {
            return Ok(());
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let Ok(event) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let object = &event["object"];
            if event["type"] == "ERROR" {
                let message = object["message"].as_str().unwrap_or("the watch failed");
                return Err(ClientError::new(format!("error: {message}")));
            }
            if name.is_some_and(|n| object["metadata"]["name"] != n) {
                continue;
            }
            match format {
                Format::Table => {
                    let text = render_table(kind, std::slice::from_ref(object));
                    let mut lines = text.lines();
                    let header = lines.next().unwrap_or_default();
                    if !header_printed {
                        print(&format!("{header}\n"));
                        header_printed = true;
                    }
                    for l in lines {
                        print(&format!("{l}\n"));
                    }
                }
                Format::Name => print(&format!(
                    "{kind}/{}\n",
                    object["metadata"]["name"].as_str().unwrap_or_default()
                )),
                f => print(&structured(&event, f)?),
            }
        }
    }
}
