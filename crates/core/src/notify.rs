//! Registry events in CNCF Distribution's envelope format, so that receivers written for
//! Distribution work unchanged: push, pull, mount and delete, each with its target, the request
//! that caused it, the actor and this replica as source. The registry builds one event per
//! change and hands it, per endpoint that does not ignore it, to the metadata layer, which
//! writes it to the outbox in the same transaction as the change.

use berth_metadata::NewNotification;
use serde_json::{json, Map, Value};

/// The media type of an event envelope (`{"events": [...]}`).
pub const ENVELOPE_MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v1+json";
/// The media type Distribution gives blobs in events.
const BLOB_MEDIA_TYPE: &str = "application/octet-stream";

/// Which events an endpoint wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointFilter {
    pub name: String,
    /// `ignoredmediatypes` and `ignore.mediatypes`.
    pub ignored_media_types: Vec<String>,
    /// `ignore.actions`: push, pull, mount, delete.
    pub ignored_actions: Vec<String>,
}

impl EndpointFilter {
    fn wants(&self, action: Action, media_type: Option<&str>) -> bool {
        !self.ignored_actions.iter().any(|a| a == action.as_str())
            && !media_type.is_some_and(|m| self.ignored_media_types.iter().any(|i| i == m))
    }
}

/// Who and where events come from.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    pub endpoints: Vec<EndpointFilter>,
    /// This replica's address (`host:port`) and instance id, the events' `source`.
    pub source_addr: String,
    pub instance_id: String,
}

/// The request behind an event: Distribution's `request` and `actor`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub id: String,
    pub addr: String,
    pub host: String,
    pub method: String,
    pub user_agent: String,
    /// The authenticated caller's name; empty for anonymous callers.
    pub actor: String,
    /// `http` or `https`, for target URLs.
    pub scheme: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Push,
    Pull,
    Mount,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Push => "push",
            Action::Pull => "pull",
            Action::Mount => "mount",
            Action::Delete => "delete",
        }
    }
}

/// What an event is about.
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    pub repository: &'a str,
    pub media_type: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub size: Option<i64>,
    pub tag: Option<&'a str>,
    pub from_repository: Option<&'a str>,
    /// `manifests` or `blobs`, for the target URL.
    pub kind: &'static str,
}

impl Target<'_> {
    pub fn blob<'a>(repository: &'a str, digest: &'a str, size: i64) -> Target<'a> {
        Target {
            repository,
            media_type: Some(BLOB_MEDIA_TYPE),
            digest: Some(digest),
            size: Some(size),
            kind: "blobs",
            ..Target::default()
        }
    }
}

impl Notifier {
    /// Whether any endpoint wants `action` events at all (pulls are recorded only then).
    pub fn wants(&self, action: Action) -> bool {
        self.endpoints
            .iter()
            .any(|e| !e.ignored_actions.iter().any(|a| a == action.as_str()))
    }

    /// The event for `action` on `target`, as one outbox row per endpoint that wants it.
    pub fn events(&self, origin: &Origin, action: Action, target: &Target) -> Vec<NewNotification> {
        let endpoints: Vec<&EndpointFilter> = self
            .endpoints
            .iter()
            .filter(|e| e.wants(action, target.media_type))
            .collect();
        if endpoints.is_empty() {
            return Vec::new();
        }
        let id = uuid::Uuid::new_v4().to_string();
        let payload = self.event_json(&id, origin, action, target).to_string();
        endpoints
            .into_iter()
            .map(|e| NewNotification {
                event_id: id.clone(),
                endpoint: e.name.clone(),
                action: action.as_str().to_string(),
                repository: target.repository.to_string(),
                digest: target.digest.unwrap_or_default().to_string(),
                tag: target.tag.unwrap_or_default().to_string(),
                payload: payload.clone(),
            })
            .collect()
    }

    fn event_json(&self, id: &str, origin: &Origin, action: Action, target: &Target) -> Value {
        let mut t = Map::new();
        if let Some(m) = target.media_type {
            t.insert("mediaType".into(), json!(m));
        }
        if let Some(size) = target.size {
            t.insert("size".into(), json!(size));
        }
        if let Some(d) = target.digest {
            t.insert("digest".into(), json!(d));
        }
        if let Some(size) = target.size {
            t.insert("length".into(), json!(size));
        }
        t.insert("repository".into(), json!(target.repository));
        if let Some(from) = target.from_repository {
            t.insert("fromRepository".into(), json!(from));
        }
        let reference = target.digest.or(target.tag);
        if let (Some(r), false) = (reference, origin.host.is_empty()) {
            t.insert(
                "url".into(),
                json!(format!(
                    "{}://{}/v2/{}/{}/{r}",
                    origin.scheme, origin.host, target.repository, target.kind
                )),
            );
        }
        if let Some(tag) = target.tag {
            t.insert("tag".into(), json!(tag));
        }
        let mut actor = Map::new();
        if !origin.actor.is_empty() {
            actor.insert("name".into(), json!(origin.actor));
        }
        json!({
            "id": id,
            "timestamp": humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string(),
            "action": action.as_str(),
            "target": t,
            "request": {
                "id": origin.id,
                "addr": origin.addr,
                "host": origin.host,
                "method": origin.method,
                "useragent": origin.user_agent,
            },
            "actor": actor,
            "source": {
                "addr": self.source_addr,
                "instanceID": self.instance_id,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notifier() -> Notifier {
        Notifier {
            endpoints: vec![
                EndpointFilter {
                    name: "all".into(),
                    ..EndpointFilter::default()
                },
                EndpointFilter {
                    name: "no-pulls-no-blobs".into(),
                    ignored_media_types: vec![BLOB_MEDIA_TYPE.into()],
                    ignored_actions: vec!["pull".into()],
                },
            ],
            source_addr: "registry:5000".into(),
            instance_id: "i-1".into(),
        }
    }

    #[test]
    fn events_have_distributions_fields_and_respect_ignores() {
        let n = notifier();
        let origin = Origin {
            id: "r1".into(),
            addr: "10.0.0.1:4000".into(),
            host: "reg.example:5000".into(),
            method: "PUT".into(),
            user_agent: "podman".into(),
            actor: "alice".into(),
            scheme: "https",
        };
        let target = Target {
            repository: "p/app",
            media_type: Some("application/vnd.oci.image.manifest.v1+json"),
            digest: Some("sha256:ab"),
            size: Some(42),
            tag: Some("v1"),
            kind: "manifests",
            ..Target::default()
        };
        let rows = n.events(&origin, Action::Push, &target);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].event_id, rows[1].event_id);
        let e: Value = serde_json::from_str(&rows[0].payload).unwrap();
        assert_eq!(e["action"], "push");
        assert_eq!(e["target"]["length"], 42);
        assert_eq!(e["target"]["size"], 42);
        assert_eq!(e["target"]["tag"], "v1");
        assert_eq!(
            e["target"]["url"],
            "https://reg.example:5000/v2/p/app/manifests/sha256:ab"
        );
        assert_eq!(e["request"]["useragent"], "podman");
        assert_eq!(e["actor"]["name"], "alice");
        assert_eq!(e["source"]["instanceID"], "i-1");
        let blob = Target::blob("p/app", "sha256:cd", 7);
        assert_eq!(n.events(&origin, Action::Push, &blob).len(), 1);
        assert_eq!(n.events(&origin, Action::Pull, &target).len(), 1);
        assert!(n.wants(Action::Pull));
        assert!(!Notifier::default().wants(Action::Pull));
    }
}
