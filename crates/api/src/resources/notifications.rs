//! `GET /apis/registry.berth.io/v1/notifications`: the notification outbox, newest first —
//! each event for each endpoint with its delivery state (cluster administrators).

use axum::http::Method;
use base64::Engine;
use berth_access::Verb;
use berth_metadata::NotificationRow;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::{ok, timestamp, Ctx, ResourceResult, Status};

const API_VERSION: &str = "registry.berth.io/v1";
const MAX_LIMIT: i64 = 1000;

pub async fn list(
    ctx: &Ctx,
    method: &Method,
    query: &HashMap<String, Vec<String>>,
) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    ctx.require_cluster(Verb::ManageCluster).await?;
    let first = |k: &str| query.get(k).and_then(|v| v.first()).map(String::as_str);
    let limit = super::images::limit(query, 100, MAX_LIMIT)?;
    let endpoint = first("endpoint").filter(|e| !e.is_empty());
    let after = match first("continue").filter(|c| !c.is_empty()) {
        None => None,
        Some(token) => Some(decode_continue(token)?),
    };
    let rows = ctx
        .app
        .access
        .metadata()
        .notifications_page(
            endpoint,
            after.as_ref().map(|(c, i, e)| (*c, i.as_str(), e.as_str())),
            limit,
        )
        .await?;
    let mut body = json!({
        "apiVersion": API_VERSION,
        "kind": "NotificationList",
        "metadata": {},
        "items": rows.iter().map(item).collect::<Vec<_>>(),
    });
    if rows.len() as i64 == limit {
        if let Some(last) = rows.last() {
            let token = format!("{}\n{}\n{}", last.created_at, last.event_id, last.endpoint);
            body["metadata"]["continue"] =
                json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token));
        }
    }
    Ok(ok(body))
}

fn decode_continue(token: &str) -> Result<(i64, String, String), Status> {
    let bad = || Status::bad_request("the continue token is not one this server gave");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '\n');
    let created = parts.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().ok_or_else(bad)?.to_string();
    let endpoint = parts.next().ok_or_else(bad)?.to_string();
    if id.chars().any(char::is_control) || endpoint.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok((created, id, endpoint))
}

fn item(r: &NotificationRow) -> Value {
    let state = match (r.delivered_at, r.attempts) {
        (Some(_), _) => "Delivered",
        (None, 0) => "Pending",
        (None, _) => "Failing",
    };
    json!({
        "apiVersion": API_VERSION,
        "kind": "Notification",
        "metadata": {
            "name": format!("{}.{}", r.event_id, r.endpoint),
            "creationTimestamp": timestamp(r.created_at),
        },
        "event": r.event_id,
        "endpoint": r.endpoint,
        "action": r.action,
        "repository": r.repository,
        "digest": r.digest,
        "tag": r.tag,
        "status": {
            "state": state,
            "attempts": r.attempts,
            "lastError": r.last_error,
            "deliveredAt": r.delivered_at.map(timestamp),
        },
    })
}
