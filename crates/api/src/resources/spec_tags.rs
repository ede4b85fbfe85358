//! An image stream's `spec.tags[]`, and what writing them does to the stream's tags: a tag
//! `from` an `ImageStreamImage` points at that image (a copy of the reference); one `from` an
//! `ImageStreamTag` follows that tag from now on (an alias); one `from` a `DockerImage` of this
//! registry is resolved here, one of another registry is recorded, with a condition saying it
//! was not imported. Only spec tags that changed are applied.

use berth_access::Verb;
use berth_metadata::SpecTagAction;
use serde_json::{json, Map, Value};

use super::{timestamp, Ctx, Status};

/// What writing a spec does.
pub struct SpecPlan {
    /// The spec to store.
    pub spec: Value,
    /// Status conditions per tag.
    pub conditions: Map<String, Value>,
    pub actions: Vec<(String, SpecTagAction)>,
}

/// The stream a spec belongs to, and the spec it had.
pub struct SpecTarget<'a> {
    pub project: &'a str,
    pub stream: &'a str,
    pub old_spec: &'a Value,
    pub old_conditions: &'a Map<String, Value>,
    /// Stamped on changed tags.
    pub generation: i64,
    /// A tag applied even when its entry did not change (`berth tag` onto it again).
    pub force_tag: Option<&'a str>,
}

/// Plans writing `new_spec` over the target's spec. Checks the caller may pull what the tags
/// name.
pub async fn plan_spec(
    ctx: &Ctx,
    target: &SpecTarget<'_>,
    new_spec: &Value,
) -> Result<SpecPlan, Status> {
    let SpecTarget {
        project,
        stream,
        old_spec,
        old_conditions,
        generation,
        force_tag,
    } = *target;
    let new_spec = match new_spec {
        Value::Null => json!({}),
        Value::Object(_) => new_spec.clone(),
        _ => return Err(Status::invalid("spec must be an object")),
    };
    let mut spec = json!({});
    match &new_spec["lookupPolicy"] {
        Value::Null => spec["lookupPolicy"] = json!({"local": false}),
        v @ Value::Object(o) if o.get("local").is_none_or(Value::is_boolean) => {
            spec["lookupPolicy"] = v.clone()
        }
        _ => {
            return Err(Status::invalid(
                "spec.lookupPolicy must be {local: true|false}",
            ))
        }
    }
    match &new_spec["dockerImageRepository"] {
        Value::Null => {}
        Value::String(s) => spec["dockerImageRepository"] = json!(s),
        _ => {
            return Err(Status::invalid(
                "spec.dockerImageRepository must be a string",
            ))
        }
    }
    let old_tags = tags_of(old_spec).unwrap_or_default();
    let new_tags = tags_of(&new_spec)?;
    let mut plan = SpecPlan {
        spec: Value::Null,
        conditions: Map::new(),
        actions: Vec::new(),
    };
    let mut out_tags = Vec::new();
    let old_by_name: std::collections::HashMap<&str, &Value> = old_tags
        .iter()
        .filter_map(|t| Some((t["name"].as_str()?, t)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (i, entry) in new_tags.iter().enumerate() {
        let name = entry["name"]
            .as_str()
            .ok_or_else(|| Status::invalid(format!("spec.tags[{i}].name is required")))?;
        name.parse::<berth_oci::Tag>()
            .map_err(|e| Status::invalid(format!("spec.tags[{i}].name {name:?}: {e}")))?;
        if !seen.insert(name) {
            return Err(Status::invalid(format!(
                "spec.tags: {name:?} appears twice"
            )));
        }
        let mut entry = entry.clone();
        if entry.get("referencePolicy").is_none() {
            entry["referencePolicy"] = json!({"type": "Source"});
        }
        let old = old_by_name.get(name).copied();
        let unchanged = old.is_some_and(|o| o["from"] == entry["from"]) && force_tag != Some(name);
        if unchanged {
            entry["generation"] = old.map(|o| o["generation"].clone()).unwrap_or(Value::Null);
            if let Some(c) = old_conditions.get(name) {
                plan.conditions.insert(name.to_string(), c.clone());
            }
        } else {
            entry["generation"] = json!(generation);
            let (action, condition) =
                action_for(ctx, project, stream, name, &entry["from"], i, generation).await?;
            if let Some(c) = condition {
                plan.conditions.insert(name.to_string(), json!([c]));
            }
            plan.actions.push((name.to_string(), action));
        }
        out_tags.push(entry);
    }
    for name in old_by_name.keys() {
        if !seen.contains(name) {
            plan.actions
                .push((name.to_string(), SpecTagAction::Untrack));
        }
    }
    spec["tags"] = Value::Array(out_tags);
    plan.spec = spec;
    Ok(plan)
}

fn tags_of(spec: &Value) -> Result<Vec<Value>, Status> {
    match &spec["tags"] {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) if a.iter().all(Value::is_object) => Ok(a.clone()),
        _ => Err(Status::invalid(
            "spec.tags must be a list of tag references",
        )),
    }
}

/// What a changed spec tag does, and the condition it leaves when it cannot be applied here.
async fn action_for(
    ctx: &Ctx,
    project: &str,
    stream: &str,
    tag: &str,
    from: &Value,
    i: usize,
    generation: i64,
) -> Result<(SpecTagAction, Option<Value>), Status> {
    if from.is_null() {
        return Ok((SpecTagAction::Untrack, None));
    }
    let field = format!("spec.tags[{i}].from");
    let kind = from["kind"]
        .as_str()
        .ok_or_else(|| Status::invalid(format!("{field}.kind is required")))?;
    let name = from["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Status::invalid(format!("{field}.name is required")))?;
    let namespace = from["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(project);
    match kind {
        "ImageStreamImage" => {
            let action = copy_of(ctx, namespace, name).await?;
            Ok((action, None))
        }
        "ImageStreamTag" => {
            let (s, t) = name.split_once(':').ok_or_else(|| {
                Status::invalid(format!(
                    "{field}.name: an ImageStreamTag is named <stream>:<tag>"
                ))
            })?;
            t.parse::<berth_oci::Tag>()
                .map_err(|e| Status::invalid(format!("{field}.name: tag {t:?}: {e}")))?;
            if namespace == project && s == stream && t == tag {
                return Err(Status::invalid(format!(
                    "{field}: a tag cannot follow itself"
                )));
            }
            // An alias follows its source with no further check, so it stays in its project:
            // rights there do not change under it, and a deleted and re-created project
            // elsewhere cannot feed it.
            if namespace != project {
                return Err(Status::invalid(format!(
                    "{field}: a tag can follow only a tag of its own project; copy the image instead (berth tag without --alias)"
                )));
            }
            let source = readable_stream(ctx, namespace, s).await?;
            Ok((
                SpecTagAction::Track {
                    source,
                    source_tag: t.to_string(),
                },
                None,
            ))
        }
        "DockerImage" => match local_reference(ctx, name) {
            Some((ns, rest)) if rest.contains('@') => Ok((copy_of(ctx, &ns, &rest).await?, None)),
            Some((ns, rest)) => {
                let (s, t) = rest.rsplit_once(':').unwrap_or((rest.as_str(), "latest"));
                t.parse::<berth_oci::Tag>()
                    .map_err(|e| Status::invalid(format!("{field}.name: tag {t:?}: {e}")))?;
                let source = readable_stream(ctx, &ns, s).await?;
                let digest = ctx
                    .app
                    .access
                    .metadata()
                    .image_by_tag(&source, t)
                    .await?
                    .ok_or_else(|| Status::not_found("imagestreamtag", &format!("{s}:{t}")))?
                    .digest;
                Ok((SpecTagAction::Copy { source, digest }, None))
            }
            None => Ok((
                SpecTagAction::Untrack,
                Some(json!({
                    "type": "ImportSuccess",
                    "status": "False",
                    "lastTransitionTime": timestamp(berth_metadata::now_millis()),
                    "reason": "ImportNotAvailable",
                    "message": format!(
                        "{name} is in another registry; importing images from other registries is not available in this version, so the tag has no image"
                    ),
                    "generation": generation,
                })),
            )),
        },
        other => Err(Status::invalid(format!(
            "{field}.kind {other:?} is not ImageStreamImage, ImageStreamTag or DockerImage"
        ))),
    }
}

/// `<namespace>/<stream>` when the caller may pull from it (a 404 otherwise, as if it did not
/// exist).
async fn readable_stream(ctx: &Ctx, namespace: &str, stream: &str) -> Result<String, Status> {
    let repository = format!("{namespace}/{stream}");
    repository
        .parse::<berth_oci::RepoName>()
        .map_err(|e| Status::invalid(e.to_string()))?;
    if !ctx.allows(Verb::Pull, namespace).await? {
        return Err(Status::not_found("imagestream", &repository));
    }
    Ok(repository)
}

/// A copy of image `<stream>@<digest>` of `namespace`, which must hold it.
async fn copy_of(ctx: &Ctx, namespace: &str, name: &str) -> Result<SpecTagAction, Status> {
    let (s, d) = name
        .split_once('@')
        .ok_or_else(|| Status::invalid("an ImageStreamImage is named <stream>@<digest>"))?;
    d.parse::<berth_oci::Digest>()
        .map_err(|e| Status::invalid(format!("{d:?}: {e}")))?;
    let source = readable_stream(ctx, namespace, s).await?;
    if ctx
        .app
        .access
        .metadata()
        .image_in_repository(&source, d)
        .await?
        .is_none()
    {
        return Err(Status::not_found("imagestreamimage", name));
    }
    Ok(SpecTagAction::Copy {
        source,
        digest: d.to_string(),
    })
}

/// A pull spec naming this registry (its host as addressed, or its public host name): the
/// project and the rest (`<stream>:<tag>` or `<stream>@<digest>`).
fn local_reference(ctx: &Ctx, pullspec: &str) -> Option<(String, String)> {
    let hosts = [Some(ctx.host.as_str()), ctx.app.public_hostname.as_deref()];
    let rest = hosts
        .into_iter()
        .flatten()
        .find_map(|h| pullspec.strip_prefix(h)?.strip_prefix('/'))?;
    let (project, rest) = rest.split_once('/')?;
    Some((project.to_string(), rest.to_string()))
}
