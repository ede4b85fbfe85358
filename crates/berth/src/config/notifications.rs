//! `notifications: {endpoints: [...]}`, with CNCF Distribution's keys, so that a Distribution
//! configuration's endpoints work as they are.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

use super::{invalid, ConfigError};
use berth_jobs::notifications::EndpointConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSection {
    pub endpoints: Option<Vec<EndpointSection>>,
    /// Distribution's `events: {includereferences}`; accepted, not used.
    pub events: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSection {
    pub name: Option<String>,
    pub disabled: Option<bool>,
    pub url: Option<String>,
    /// Header name → values, as Distribution writes them (`Authorization: [Bearer …]`).
    pub headers: Option<BTreeMap<String, OneOrMany>>,
    pub timeout: Option<DurationValue>,
    pub threshold: Option<i64>,
    pub backoff: Option<DurationValue>,
    pub ignoredmediatypes: Option<Vec<String>>,
    pub ignore: Option<IgnoreSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreSection {
    pub mediatypes: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `500ms`, `1s`, `2m`; a bare number is milliseconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DurationValue {
    Millis(u64),
    Text(String),
}

/// Distribution's defaults: a 1 s timeout, back off after 10 failures, for 1 s.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_THRESHOLD: u32 = 10;
const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

fn duration(key: &'static str, v: &DurationValue) -> Result<Duration, ConfigError> {
    let d = match v {
        DurationValue::Millis(ms) => Duration::from_millis(*ms),
        DurationValue::Text(t) => humantime::parse_duration(t).map_err(|e| {
            invalid(
                key,
                format!("{t:?} is not a duration like 500ms or 5s: {e}"),
            )
        })?,
    };
    if d.is_zero() {
        return Err(invalid(key, "must be longer than zero"));
    }
    Ok(d)
}

/// The enabled endpoints, checked: each named once, with an http(s) URL.
pub(super) fn resolve_notifications(
    section: Option<NotificationsSection>,
) -> Result<Vec<EndpointConfig>, ConfigError> {
    let mut out: Vec<EndpointConfig> = Vec::new();
    let sections = section.and_then(|s| s.endpoints).unwrap_or_default();
    for (i, e) in sections.into_iter().enumerate() {
        let key = "notifications.endpoints";
        let name = e
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| invalid(key, format!("endpoint {} has no name", i + 1)))?;
        if name.starts_with("trigger:") {
            return Err(invalid(
                key,
                format!("endpoint {name:?}: names starting with trigger: are the image change triggers'"),
            ));
        }
        if out.iter().any(|o| o.filter.name == name) {
            return Err(invalid(key, format!("two endpoints are named {name:?}")));
        }
        if e.disabled == Some(true) {
            continue;
        }
        let url = e.url.unwrap_or_default();
        let parsed = reqwest::Url::parse(&url).map_err(|err| {
            invalid(
                key,
                format!("endpoint {name:?}: url {url:?} is not a URL: {err}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid(
                key,
                format!("endpoint {name:?}: url {url:?} must be http:// or https:// with a host"),
            ));
        }
        let mut headers = Vec::new();
        for (h, values) in e.headers.unwrap_or_default() {
            let values = match values {
                OneOrMany::One(v) => vec![v],
                OneOrMany::Many(v) => v,
            };
            for v in values {
                if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err()
                    || reqwest::header::HeaderValue::from_str(&v).is_err()
                {
                    return Err(invalid(
                        key,
                        format!("endpoint {name:?}: header {h:?} is not a valid HTTP header"),
                    ));
                }
                headers.push((h.clone(), v));
            }
        }
        let threshold = match e.threshold {
            None | Some(0) => DEFAULT_THRESHOLD,
            Some(t) if t > 0 => u32::try_from(t).unwrap_or(u32::MAX),
            Some(t) => {
                return Err(invalid(
                    key,
                    format!("endpoint {name:?}: threshold {t} must be positive"),
                ))
            }
        };
        let mut ignored_media_types = e.ignoredmediatypes.unwrap_or_default();
        let ignore = e.ignore.unwrap_or_default();
        ignored_media_types.extend(ignore.mediatypes.unwrap_or_default());
        let ignored_actions = ignore.actions.unwrap_or_default();
        if let Some(a) = ignored_actions
            .iter()
            .find(|a| !matches!(a.as_str(), "push" | "pull" | "mount" | "delete"))
        {
            return Err(invalid(
                key,
                format!(
                    "endpoint {name:?}: ignore.actions: {a:?} is not push, pull, mount or delete"
                ),
            ));
        }
        out.push(EndpointConfig {
            filter: berth_core::EndpointFilter {
                name,
                ignored_media_types,
                ignored_actions,
            },
            url,
            headers,
            timeout: match &e.timeout {
                Some(t) => duration("notifications.endpoints.timeout", t)?,
                None => DEFAULT_TIMEOUT,
            },
            threshold,
            backoff: match &e.backoff {
                Some(b) => duration("notifications.endpoints.backoff", b)?,
                None => DEFAULT_BACKOFF,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Vec<EndpointConfig>, ConfigError> {
        let section: NotificationsSection = serde_yaml_ng::from_str(yaml).unwrap();
        resolve_notifications(Some(section))
    }

    #[test]
    fn distributions_keys_and_defaults() {
        let e = parse(
            "endpoints:\n- name: hook\n  url: http://127.0.0.1:9/x\n  headers: {Authorization: [Bearer t]}\n  timeout: 500ms\n  threshold: 5\n  backoff: 2s\n  ignoredmediatypes: [application/octet-stream]\n  ignore: {actions: [pull]}\n- name: off\n  disabled: true\n  url: nonsense\n- name: plain\n  url: https://example.com\n",
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].timeout, Duration::from_millis(500));
        assert_eq!(e[0].threshold, 5);
        assert_eq!(e[0].backoff, Duration::from_secs(2));
        assert_eq!(
            e[0].headers,
            vec![("Authorization".into(), "Bearer t".into())]
        );
        assert_eq!(e[0].filter.ignored_actions, vec!["pull".to_string()]);
        assert_eq!(e[1].timeout, DEFAULT_TIMEOUT);
        assert_eq!(e[1].threshold, DEFAULT_THRESHOLD);
    }

    #[test]
    fn bad_endpoints_are_refused_with_their_name() {
        for (yaml, says) in [
            ("endpoints:\n- url: http://a\n", "no name"),
            ("endpoints:\n- name: a\n  url: ftp://a\n", "http"),
            (
                "endpoints:\n- name: a\n  url: http://a\n- name: a\n  url: http://b\n",
                "two endpoints",
            ),
            (
                "endpoints:\n- name: a\n  url: http://a\n  timeout: soon\n",
                "duration",
            ),
            (
                "endpoints:\n- name: a\n  url: http://a\n  ignore: {actions: [fetch]}\n",
                "fetch",
            ),
            (
                "endpoints:\n- name: a\n  url: http://a\n  threshold: -1\n",
                "positive",
            ),
            (
                "endpoints:\n- name: \"trigger:p/t\"\n  url: http://a\n",
                "trigger",
            ),
        ] {
            let err = parse(yaml).unwrap_err().to_string();
            assert!(err.contains(says), "{yaml}: {err}");
        }
    }
}
