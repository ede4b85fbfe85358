//! `PATCH` bodies, by their `Content-Type` as Kubernetes defines them: a JSON merge patch
//! (`application/merge-patch+json`, RFC 7386; also plain `application/json`), a strategic
//! merge patch (`application/strategic-merge-patch+json`: a merge patch whose `spec.tags` list
//! is merged entry by entry on `name`, `$patch: delete` removing one, as kubectl sends by
//! default), or a JSON patch (`application/json-patch+json`, RFC 6902). Server-side apply is
//! not supported (415).

use axum::http::StatusCode;
use serde_json::Value;

use super::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Strategic,
    Json,
}

impl PatchKind {
    /// The kind a request's content type names; without one, the body's shape decides.
    pub fn of(content_type: &str, body: &Value) -> Result<PatchKind, Status> {
        let ct = content_type.to_ascii_lowercase();
        let kind = if ct.contains("json-patch+json") {
            PatchKind::Json
        } else if ct.contains("strategic-merge-patch") {
            PatchKind::Strategic
        } else if ct.contains("merge-patch") {
            PatchKind::Merge
        } else if ct.contains("apply-patch") {
            return Err(Status::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "server-side apply is not supported: send a merge patch (application/merge-patch+json) or a JSON patch",
            ));
        } else if body.is_array() {
            PatchKind::Json
        } else {
            PatchKind::Merge
        };
        match (kind, body) {
            (PatchKind::Json, Value::Array(_)) => Ok(kind),
            (PatchKind::Json, _) => Err(Status::bad_request(
                "a JSON patch is an array of operations",
            )),
            (_, Value::Object(_)) => Ok(kind),
            _ => Err(Status::bad_request(
                "a merge patch is a JSON object (a JSON patch, an array, needs Content-Type: application/json-patch+json)",
            )),
        }
    }

    /// Applies `patch` to `target`.
    pub fn apply(self, target: &mut Value, patch: Value) -> Result<(), Status> {
        match self {
            PatchKind::Merge => {
                json_patch::merge(target, &patch);
                Ok(())
            }
            PatchKind::Strategic => {
                strategic_merge(target, patch);
                Ok(())
            }
            PatchKind::Json => {
                let ops: json_patch::Patch = serde_json::from_value(patch)
                    .map_err(|e| Status::bad_request(format!("not a JSON patch: {e}")))?;
                json_patch::patch(target, &ops)
                    .map_err(|e| Status::invalid(format!("the JSON patch does not apply: {e}")))
            }
        }
    }
}

/// Whether a patch names the resourceVersion it was based on (then a conflict is the
/// client's to resolve, not retried here).
pub fn pins_version(patch: &Value) -> bool {
    match patch {
        Value::Array(ops) => ops
            .iter()
            .any(|op| op["path"].as_str() == Some("/metadata/resourceVersion")),
        other => other["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
    }
}

fn strategic_merge(target: &mut Value, mut patch: Value) {
    let tags = match patch.pointer_mut("/spec/tags") {
        Some(t @ Value::Array(_)) => Some(t.take()),
        _ => None,
    };
    if let Some(spec) = patch.get_mut("spec").and_then(Value::as_object_mut) {
        if tags.is_some() {
            spec.remove("tags");
        }
    }
    json_patch::merge(target, &patch);
    let Some(Value::Array(entries)) = tags else {
        return;
    };
    let mut merged: Vec<Value> = target
        .pointer("/spec/tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for mut entry in entries {
        let Some(name) = entry["name"].as_str().map(str::to_string) else {
            continue;
        };
        let delete = entry["$patch"] == "delete";
        if let Some(o) = entry.as_object_mut() {
            o.remove("$patch");
        }
        match merged.iter().position(|t| t["name"] == name.as_str()) {
            Some(i) if delete => {
                merged.remove(i);
            }
            Some(i) => json_patch::merge(&mut merged[i], &entry),
            None if delete => {}
            None => merged.push(entry),
        }
    }
    target["spec"]["tags"] = Value::Array(merged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_keeps_other_tags() {
        let mut is = json!({"metadata": {"labels": {"a": "1"}},
            "spec": {"tags": [{"name": "x", "from": {"name": "a"}}, {"name": "y", "from": {"name": "b"}}]}});
        let patch = json!({"metadata": {"labels": {"b": "2"}},
            "spec": {"tags": [{"name": "y", "from": {"name": "c"}}, {"name": "z"}, {"name": "x", "$patch": "delete"}]}});
        PatchKind::Strategic.apply(&mut is, patch).unwrap();
        assert_eq!(is["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        assert_eq!(
            is["spec"]["tags"],
            json!([{"name": "y", "from": {"name": "c"}}, {"name": "z"}])
        );
    }

    #[test]
    fn kinds_follow_the_content_type() {
        let obj = json!({});
        let arr = json!([]);
        assert_eq!(
            PatchKind::of("application/merge-patch+json", &obj).unwrap(),
            PatchKind::Merge
        );
        assert_eq!(
            PatchKind::of("application/json-patch+json", &arr).unwrap(),
            PatchKind::Json
        );
        assert_eq!(PatchKind::of("", &arr).unwrap(), PatchKind::Json);
        assert!(PatchKind::of("application/json-patch+json", &obj).is_err());
        assert!(PatchKind::of("application/merge-patch+json", &arr).is_err());
        assert_eq!(
            PatchKind::of("application/apply-patch+yaml", &obj)
                .unwrap_err()
                .code,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert!(pins_version(&json!({"metadata": {"resourceVersion": "3"}})));
        assert!(!pins_version(&json!({"metadata": {}})));
    }
}
