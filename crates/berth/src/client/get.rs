//! `berth get` and `berth delete`.

use reqwest::Method;
use serde_json::{json, Value};

use super::args::{DeleteArgs, GetArgs, PatchArgs};
use super::commands::{print, session, urlencode, AUTHZ, PROJECTS, TOKENS, USERS};
use super::output::{age, str_of, structured, table, Format};
use super::ClientError;

const IMAGE_API: &str = "/apis/image.openshift.io/v1";

/// The API path of a resource, from the names `oc` accepts for it.
fn resource_path(
    resource: &str,
    namespace: Option<&str>,
) -> Result<(&'static str, String), ClientError> {
    let need_ns = |kind: &str| {
        namespace
            .ok_or_else(|| ClientError::usage(format!("{kind} live in a project: add -n PROJECT")))
    };
    Ok(match resource {
        "project" | "projects" => ("project", PROJECTS.to_string()),
        "user" | "users" => ("user", USERS.to_string()),
        "token" | "tokens" | "oauthaccesstoken" | "oauthaccesstokens" => ("token", TOKENS.to_string()),
        "sa" | "serviceaccount" | "serviceaccounts" => (
            "serviceaccount",
            format!("/api/v1/namespaces/{}/serviceaccounts", need_ns("service accounts")?),
        ),
        "rolebinding" | "rolebindings" => (
            "rolebinding",
            format!("{AUTHZ}/namespaces/{}/rolebindings", need_ns("role bindings")?),
        ),
        "clusterrolebinding" | "clusterrolebindings" => {
            ("clusterrolebinding", format!("{AUTHZ}/clusterrolebindings"))
        }
        "clusterrole" | "clusterroles" => ("clusterrole", format!("{AUTHZ}/clusterroles")),
        "is" | "imagestream" | "imagestreams" => (
            "imagestream",
            format!("{IMAGE_API}/namespaces/{}/imagestreams", need_ns("image streams")?),
        ),
        "istag" | "imagestreamtag" | "imagestreamtags" => (
            "imagestreamtag",
            format!("{IMAGE_API}/namespaces/{}/imagestreamtags", need_ns("image stream tags")?),
        ),
        "isimage" | "imagestreamimage" | "imagestreamimages" => (
            "imagestreamimage",
            format!("{IMAGE_API}/namespaces/{}/imagestreamimages", need_ns("image stream images")?),
        ),
        "image" | "images" => ("image", format!("{IMAGE_API}/images")),
        "trigger" | "triggers" | "imagechangetrigger" | "imagechangetriggers" => (
            "imagechangetrigger",
            format!(
                "/apis/registry.berth.io/v1/namespaces/{}/imagechangetriggers",
                need_ns("triggers")?
            ),
        ),
        "notification" | "notifications" => (
            "notification",
            "/apis/registry.berth.io/v1/notifications".to_string(),
        ),
        other => {
            return Err(ClientError::usage(format!(
                "unknown resource {other:?}: use projects, users, serviceaccounts, tokens, rolebindings, clusterrolebindings, clusterroles, imagestreams (is), imagestreamtags (istag), imagestreamimages (isimage), images, triggers or notifications"
            )))
        }
    })
}

pub(super) async fn get(a: GetArgs) -> Result<(), ClientError> {
    let s = session(&a.client)?;
    let (kind, mut path) = match (a.all_namespaces, a.resource.as_str()) {
        (true, "is" | "imagestream" | "imagestreams") => {
            ("imagestream", format!("{IMAGE_API}/imagestreams"))
        }
        _ => resource_path(&a.resource, a.namespace.as_deref())?,
    };
    if let Some(sel) = &a.selector {
        path.push_str(&format!("?labelSelector={}", urlencode(sel)));
    }
    if a.watch {
        return super::watch::watch(&s, kind, &path, a.name.as_deref(), a.output.format).await;
    }
    if kind == "token" && a.name.is_none() {
        if let Some(ns) = &a.namespace {
            path.push_str(&format!("?namespace={ns}"));
        }
    }
    if let Some(name) = &a.name {
        path.push_str(&format!("/{}", urlencode(name)));
    }
    let v = s.call(Method::GET, &path, None, None).await?;
    let items: Vec<Value> = match &a.name {
        Some(_) => vec![v.clone()],
        None => v["items"].as_array().cloned().unwrap_or_default(),
    };
    if kind == "token" && a.output.format == Format::Json {
        // Tokens as a plain list, never with a secret.
        let list: Vec<Value> = items.iter().map(token_summary).collect();
        print(&structured(&Value::Array(list), Format::Json)?);
        return Ok(());
    }
    match a.output.format {
        Format::Table => print(&render_table(kind, &items)),
        Format::Name => {
            for i in &items {
                print(&format!("{kind}/{}\n", str_of(i, &["metadata", "name"])));
            }
        }
        f => print(&structured(&v, f)?),
    }
    Ok(())
}

fn token_summary(t: &Value) -> Value {
    json!({
        "id": t["metadata"]["name"],
        "user": t["userName"],
        "created": t["metadata"]["creationTimestamp"],
        "expires": t["expires"],
    })
}

pub(super) fn render_table(kind: &str, items: &[Value]) -> String {
    let names = |v: &Value, key: &str| {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let (headers, rows): (&[&str], Vec<Vec<String>>) = match kind {
        "project" => (
            &["NAME", "DISPLAY NAME", "STATUS"],
            items
                .iter()
                .map(|p| {
                    vec![
                        str_of(p, &["metadata", "name"]),
                        str_of(p, &["metadata", "annotations", "openshift.io/display-name"]),
                        str_of(p, &["status", "phase"]),
                    ]
                })
                .collect(),
        ),
        "user" => (
            &["NAME", "UID", "AGE"],
            items
                .iter()
                .map(|u| {
                    vec![
                        str_of(u, &["metadata", "name"]),
                        str_of(u, &["metadata", "uid"]),
                        age(&str_of(u, &["metadata", "creationTimestamp"])),
                    ]
                })
                .collect(),
        ),
        "serviceaccount" => (
            &["NAME", "AGE"],
            items
                .iter()
                .map(|u| {
                    vec![
                        str_of(u, &["metadata", "name"]),
                        age(&str_of(u, &["metadata", "creationTimestamp"])),
                    ]
                })
                .collect(),
        ),
        "imagestream" => (
            &["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"],
            items
                .iter()
                .map(|s| {
                    let tags = s["status"]["tags"].as_array().cloned().unwrap_or_default();
                    let newest = tags
                        .iter()
                        .filter_map(|t| t["items"][0]["created"].as_str())
                        .max()
                        .map(age)
                        .unwrap_or_default();
                    vec![
                        str_of(s, &["metadata", "name"]),
                        str_of(s, &["status", "dockerImageRepository"]),
                        tags.iter()
                            .filter_map(|t| t["tag"].as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        newest,
                    ]
                })
                .collect(),
        ),
        "imagestreamtag" | "imagestreamimage" => (
            &["NAME", "IMAGE REFERENCE", "UPDATED"],
            items
                .iter()
                .map(|t| {
                    vec![
                        str_of(t, &["metadata", "name"]),
                        str_of(t, &["image", "dockerImageReference"]),
                        age(&str_of(t, &["metadata", "creationTimestamp"])),
                    ]
                })
                .collect(),
        ),
        "image" => (
            &["NAME", "IMAGE REFERENCE"],
            items
                .iter()
                .map(|i| {
                    vec![
                        str_of(i, &["metadata", "name"]),
                        str_of(i, &["dockerImageReference"]),
                    ]
                })
                .collect(),
        ),
        "imagechangetrigger" => (
            &["NAME", "FROM", "URL", "LAST IMAGE", "LAST TRIGGERED"],
            items
                .iter()
                .map(|t| {
                    vec![
                        str_of(t, &["metadata", "name"]),
                        str_of(t, &["spec", "from", "name"]),
                        str_of(t, &["spec", "url"]),
                        str_of(t, &["status", "lastTriggeredImage"]),
                        str_of(t, &["status", "lastTriggerTime"]),
                    ]
                })
                .collect(),
        ),
        "notification" => (
            &[
                "CREATED",
                "ENDPOINT",
                "ACTION",
                "REPOSITORY",
                "TAG/DIGEST",
                "STATE",
                "ATTEMPTS",
                "LAST ERROR",
            ],
            items
                .iter()
                .map(|n| {
                    let tag = str_of(n, &["tag"]);
                    vec![
                        str_of(n, &["metadata", "creationTimestamp"]),
                        str_of(n, &["endpoint"]),
                        str_of(n, &["action"]),
                        str_of(n, &["repository"]),
                        if tag.is_empty() {
                            str_of(n, &["digest"])
                        } else {
                            tag
                        },
                        str_of(n, &["status", "state"]),
                        n["status"]["attempts"].to_string(),
                        str_of(n, &["status", "lastError"]),
                    ]
                })
                .collect(),
        ),
        "token" => (
            &["ID", "USER", "CREATED", "EXPIRES"],
            items
                .iter()
                .map(|t| {
                    vec![
                        str_of(t, &["metadata", "name"]),
                        str_of(t, &["userName"]),
                        str_of(t, &["metadata", "creationTimestamp"]),
                        t["expires"].as_str().unwrap_or("never").to_string(),
                    ]
                })
                .collect(),
        ),
        "rolebinding" | "clusterrolebinding" => (
            &["NAME", "ROLE", "USERS", "GROUPS"],
            items
                .iter()
                .map(|b| {
                    vec![
                        str_of(b, &["metadata", "name"]),
                        str_of(b, &["roleRef", "name"]),
                        names(b, "userNames"),
                        names(b, "groupNames"),
                    ]
                })
                .collect(),
        ),
        _ => (
            &["NAME", "VERBS"],
            items
                .iter()
                .map(|r| vec![str_of(r, &["metadata", "name"]), names(r, "verbs")])
                .collect(),
        ),
    };
    if rows.is_empty() {
        return "No resources found.\n".into();
    }
    table(headers, &rows)
}

pub(super) async fn delete(a: DeleteArgs) -> Result<(), ClientError> {
    let s = session(&a.client)?;
    let (kind, path) = resource_path(&a.resource, a.namespace.as_deref())?;
    if kind == "clusterrole" {
        return Err(ClientError::usage(
            "roles are built in and cannot be deleted",
        ));
    }
    s.call(
        Method::DELETE,
        &format!("{path}/{}", urlencode(&a.name)),
        None,
        None,
    )
    .await?;
    print(&format!("{kind} \"{}\" deleted\n", a.name));
    Ok(())
}

/// `berth patch RESOURCE NAME -p JSON [--type merge|json]`.
pub(super) async fn patch(a: PatchArgs) -> Result<(), ClientError> {
    let body: Value = serde_json::from_str(&a.patch)
        .map_err(|e| ClientError::usage(format!("-p is not JSON: {e}")))?;
    match (a.patch_type.as_str(), &body) {
        ("merge" | "strategic", Value::Object(_)) | ("json", Value::Array(_)) => {}
        ("merge" | "strategic", _) => {
            return Err(ClientError::usage("a merge patch is a JSON object"))
        }
        ("json", _) => {
            return Err(ClientError::usage(
                "a JSON patch is an array of operations, e.g. [{\"op\":\"add\",\"path\":\"/metadata/labels/a\",\"value\":\"b\"}]",
            ))
        }
        (other, _) => {
            return Err(ClientError::usage(format!(
                "--type {other}: use merge or json"
            )))
        }
    }
    let s = session(&a.client)?;
    let (kind, path) = resource_path(&a.resource, a.namespace.as_deref())?;
    let v = s
        .call(
            Method::PATCH,
            &format!("{path}/{}", urlencode(&a.name)),
            Some(body),
            None,
        )
        .await?;
    match a.output.format {
        Format::Table => print(&format!("{kind}/{} patched\n", a.name)),
        Format::Name => print(&format!("{kind}/{}\n", a.name)),
        f => print(&structured(&v, f)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_summaries_never_carry_the_secret() {
        let t = json!({"metadata": {"name": "abc", "creationTimestamp": "2026-01-01T00:00:00Z"},
                       "userName": "u", "expires": null, "token": "sha256~secret"});
        let s = token_summary(&t);
        assert_eq!(
            s,
            json!({"id": "abc", "user": "u", "created": "2026-01-01T00:00:00Z", "expires": null})
        );
    }

    #[test]
    fn resources_and_encoding() {
        assert!(resource_path("sa", None).is_err());
        assert_eq!(resource_path("projects", None).unwrap().0, "project");
        assert!(resource_path("pods", None).is_err());
        assert_eq!(
            super::super::commands::urlencode("system:image-puller"),
            "system%3Aimage-puller"
        );
    }
}
