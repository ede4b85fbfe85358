//! `berth tag` and `berth rollback`: pointing image stream tags at images.

use reqwest::Method;
use serde_json::{json, Value};

use super::args::{DescribeArgs, RollbackArgs, TagArgs};
use super::commands::{print, session, urlencode};
use super::output::age;
use super::{ClientError, Session};

const IMAGE_API: &str = "/apis/image.openshift.io/v1";

/// `[project/]rest` with the default project.
fn split_project<'a>(spec: &'a str, default: &'a str) -> (&'a str, &'a str) {
    match spec.split_once('/') {
        Some((p, rest)) => (p, rest),
        None => (default, spec),
    }
}

fn istag_path(project: &str, name: &str) -> String {
    format!(
        "{IMAGE_API}/namespaces/{project}/imagestreamtags/{}",
        urlencode(name)
    )
}

async fn point(s: &Session, project: &str, dest: &str, from: Value) -> Result<Value, ClientError> {
    s.call(
        Method::PUT,
        &istag_path(project, dest),
        Some(json!({"kind": "ImageStreamTag", "tag": {"from": from}})),
        None,
    )
    .await
}

pub(super) async fn tag(a: TagArgs) -> Result<(), ClientError> {
    let s = session(&a.client)?;
    if a.delete {
        for r in &a.refs {
            let (project, name) = split_project(r, &a.namespace);
            if !name.contains(':') {
                return Err(ClientError::usage(format!(
                    "{r}: give the tag as STREAM:TAG"
                )));
            }
            s.call(Method::DELETE, &istag_path(project, name), None, None)
                .await?;
            print(&format!("Deleted tag {project}/{name}.\n"));
        }
        return Ok(());
    }
    let [source, dest] = a.refs.as_slice() else {
        return Err(ClientError::usage(
            "give a source and a destination: berth tag STREAM:TAG STREAM:TAG -n PROJECT",
        ));
    };
    let (src_project, src) = split_project(source, &a.namespace);
    let (dst_project, dst) = split_project(dest, &a.namespace);
    if !dst.contains(':') {
        return Err(ClientError::usage(format!(
            "{dest}: give the destination as STREAM:TAG"
        )));
    }
    let from = match a.source.as_str() {
        "docker" => {
            // A pull spec: project splitting does not apply.
            if a.alias {
                return Err(ClientError::usage(
                    "--alias needs an image stream tag as the source",
                ));
            }
            json!({"kind": "DockerImage", "name": source})
        }
        "isimage" | "istag" if src.contains('@') => {
            json!({"kind": "ImageStreamImage", "namespace": src_project, "name": src})
        }
        "istag" if src.contains(':') && a.alias => {
            json!({"kind": "ImageStreamTag", "namespace": src_project, "name": src})
        }
        "istag" if src.contains(':') => {
            // A copy of what the tag points at now, as `oc tag` does.
            let current = s
                .call(Method::GET, &istag_path(src_project, src), None, None)
                .await?;
            let digest = current["image"]["metadata"]["name"]
                .as_str()
                .ok_or_else(|| ClientError::new(format!("{source} has no image")))?;
            let stream = src.split_once(':').map(|(st, _)| st).unwrap_or(src);
            json!({"kind": "ImageStreamImage", "namespace": src_project, "name": format!("{stream}@{digest}")})
        }
        "istag" | "isimage" => {
            return Err(ClientError::usage(format!(
                "{source}: give the source as STREAM:TAG or STREAM@DIGEST"
            )))
        }
        other => {
            return Err(ClientError::usage(format!(
                "--source={other}: use istag, isimage or docker"
            )))
        }
    };
    let v = point(&s, dst_project, dst, from).await?;
    let what = if a.alias { "now follows" } else { "set to" };
    match v["image"]["metadata"]["name"].as_str() {
        Some(digest) => print(&format!(
            "Tag {dst_project}/{dst} {what} {source} ({digest}).\n"
        )),
        None => print(&format!(
            "Tag {dst_project}/{dst} {what} {source} (no image yet).\n"
        )),
    }
    Ok(())
}

pub(super) async fn rollback(a: RollbackArgs) -> Result<(), ClientError> {
    let s = session(&a.client)?;
    let Some((stream, tag)) = a.target.split_once(':') else {
        return Err(ClientError::usage(format!("{}: give STREAM:TAG", a.target)));
    };
    let is = s
        .call(
            Method::GET,
            &format!(
                "{IMAGE_API}/namespaces/{}/imagestreams/{stream}",
                a.namespace
            ),
            None,
            None,
        )
        .await?;
    let history: Vec<Value> = is["status"]["tags"]
        .as_array()
        .and_then(|tags| tags.iter().find(|t| t["tag"] == tag))
        .and_then(|t| t["items"].as_array().cloned())
        .ok_or_else(|| ClientError::new(format!("{stream} has no tag {tag}")))?;
    let digest = match (&a.to, a.to_revision) {
        (Some(d), _) => {
            if !history.iter().any(|i| i["image"] == d.as_str()) {
                return Err(ClientError::new(format!(
                    "{d} is not in the history of {stream}:{tag}"
                )));
            }
            d.clone()
        }
        (None, n) => {
            let n = n.unwrap_or(1);
            history
                .get(n)
                .and_then(|i| i["image"].as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    ClientError::new(format!(
                        "{stream}:{tag} has {} revisions; there is none {n} back",
                        history.len()
                    ))
                })?
        }
    };
    point(
        &s,
        &a.namespace,
        &a.target,
        json!({"kind": "ImageStreamImage", "name": format!("{stream}@{digest}")}),
    )
    .await?;
    print(&format!("Rolled back {}:{tag} to {digest}.\n", stream));
    Ok(())
}

/// Sizes shown per tag: the newest revisions only.
const DESCRIBED_REVISIONS: usize = 10;

pub(super) async fn describe(a: DescribeArgs) -> Result<(), ClientError> {
    if !matches!(a.resource.as_str(), "is" | "imagestream" | "imagestreams") {
        return Err(ClientError::usage(format!(
            "cannot describe {:?}: berth describe is NAME -n PROJECT",
            a.resource
        )));
    }
    let s = session(&a.client)?;
    let is = s
        .call(
            Method::GET,
            &format!(
                "{IMAGE_API}/namespaces/{}/imagestreams/{}",
                a.namespace,
                urlencode(&a.name)
            ),
            None,
            None,
        )
        .await?;
    let tags = is["status"]["tags"].as_array().cloned().unwrap_or_default();
    let mut out = format!(
        "Name:\t\t\t{}\nNamespace:\t\t{}\nCreated:\t\t{} ago\nImage Repository:\t{}\nTags:\t\t\t{}\n",
        a.name,
        a.namespace,
        age(is["metadata"]["creationTimestamp"].as_str().unwrap_or_default()),
        is["status"]["dockerImageRepository"].as_str().unwrap_or_default(),
        tags.len()
    );
    if let Some(public) = is["status"]["publicDockerImageRepository"].as_str() {
        out.push_str(&format!("Public Repository:\t{public}\n"));
    }
    if let Some(labels) = is["metadata"]["labels"].as_object() {
        let pairs: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        out.push_str(&format!("Labels:\t\t\t{}\n", pairs.join(",")));
    }
    let spec_tags = is["spec"]["tags"].as_array().cloned().unwrap_or_default();
    for t in &tags {
        let name = t["tag"].as_str().unwrap_or_default();
        out.push_str(&format!("\n{name}\n"));
        if let Some(from) = spec_tags
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| &e["from"])
            .filter(|f| !f.is_null())
        {
            let how = match from["kind"].as_str() {
                Some("ImageStreamTag") => "follows",
                _ => "tagged from",
            };
            let ns = from["namespace"]
                .as_str()
                .filter(|n| !n.is_empty() && *n != a.namespace)
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {how} {ns}{}\n",
                from["name"].as_str().unwrap_or_default()
            ));
        }
        for c in t["conditions"].as_array().cloned().unwrap_or_default() {
            out.push_str(&format!(
                "  ! {}: {}\n",
                c["reason"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default()
            ));
        }
        let items = t["items"].as_array().cloned().unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            let digest = item["image"].as_str().unwrap_or_default();
            let size = if i < DESCRIBED_REVISIONS {
                match s
                    .call(
                        Method::GET,
                        &format!("{IMAGE_API}/images/{digest}"),
                        None,
                        None,
                    )
                    .await
                {
                    Ok(image) => {
                        human_size(image["dockerImageMetadata"]["Size"].as_i64().unwrap_or(0))
                    }
                    Err(_) => "?".into(),
                }
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {} {}\n      {} ago, generation {}, {size}\n",
                if i == 0 { "*" } else { " " },
                item["dockerImageReference"].as_str().unwrap_or_default(),
                age(item["created"].as_str().unwrap_or_default()),
                item["generation"],
            ));
        }
    }
    print(&out);
    Ok(())
}

fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", b / 1024.0),
        n if n < 1024 * 1024 * 1024 => format!("{:.1} MiB", b / 1048576.0),
        _ => format!("{:.1} GiB", b / 1073741824.0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(super::human_size(10), "10 B");
        assert_eq!(super::human_size(2048), "2.0 KiB");
        assert_eq!(super::human_size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn projects_split_off_names() {
        assert_eq!(super::split_project("p/app:v1", "d"), ("p", "app:v1"));
        assert_eq!(super::split_project("app:v1", "d"), ("d", "app:v1"));
    }
}
