//! Kubernetes label selectors (`?labelSelector=`): `key`, `!key`, `key=value`, `key==value`,
//! `key!=value`, `key in (a,b)`, `key notin (a,b)`, joined by commas; and field selectors
//! (`?fieldSelector=metadata.name=app`, `metadata.namespace!=x`), as `kubectl get NAME -w` sends.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// A label selector and a field selector from a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectSelector {
    labels: LabelSelector,
    /// (field, equal?, value) for `metadata.name` and `metadata.namespace`.
    fields: Vec<(String, bool, String)>,
}

impl ObjectSelector {
    pub fn from_query(query: &HashMap<String, Vec<String>>) -> Result<ObjectSelector, Status> {
        let first = |k: &str| query.get(k).and_then(|v| v.first());
        let labels = match first("labelSelector") {
            Some(s) => LabelSelector::parse(s)?,
            None => LabelSelector::default(),
        };
        let mut fields = Vec::new();
        if let Some(text) = first("fieldSelector") {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                    (f, false, v)
                } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('='))
                {
                    (f, true, v)
                } else {
                    return Err(Status::bad_request(format!(
                        "fieldSelector {text:?}: {part:?} is not FIELD=VALUE or FIELD!=VALUE"
                    )));
                };
                let field = field.trim();
                if !matches!(field, "metadata.name" | "metadata.namespace") {
                    return Err(Status::bad_request(format!(
                        "fieldSelector: {field:?} is not a supported field (metadata.name, metadata.namespace)"
                    )));
                }
                fields.push((field.to_string(), equal, value.trim().to_string()));
            }
        }
        Ok(ObjectSelector { labels, fields })
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.labels.0.is_empty() && self.fields.is_empty()
    }

    /// Whether an object with these labels, name and namespace is selected.
    pub fn matches(&self, labels: &Map<String, Value>, name: &str, namespace: &str) -> bool {
        self.labels.matches(labels)
            && self.fields.iter().all(|(field, equal, value)| {
                let actual = if field == "metadata.name" {
                    name
                } else {
                    namespace
                };
                (actual == value) == *equal
            })
    }
}

use super::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, Status> {
        let bad = |why: &str| Status::bad_request(format!("labelSelector {text:?}: {why}"));
        let mut out = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement::Absent(label_key(key.trim()).ok_or_else(|| bad("bad key"))?)
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotIn(
                    label_key(k.trim()).ok_or_else(|| bad("bad key"))?,
                    vec![label_value(v.trim()).ok_or_else(|| bad("bad value"))?],
                )
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::In(
                    label_key(k.trim()).ok_or_else(|| bad("bad key"))?,
                    vec![label_value(v.trim()).ok_or_else(|| bad("bad value"))?],
                )
            } else if let Some((k, rest)) = set_operator(part, " notin ") {
                Requirement::NotIn(
                    label_key(k).ok_or_else(|| bad("bad key"))?,
                    value_set(rest).ok_or_else(|| bad("bad value set"))?,
                )
            } else if let Some((k, rest)) = set_operator(part, " in ") {
                Requirement::In(
                    label_key(k).ok_or_else(|| bad("bad key"))?,
                    value_set(rest).ok_or_else(|| bad("bad value set"))?,
                )
            } else {
                Requirement::Exists(label_key(part).ok_or_else(|| bad("bad key"))?)
            };
            out.push(req);
        }
        Ok(LabelSelector(out))
    }

    /// Whether `labels` (a JSON object of strings) satisfies every requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::Absent(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn set_operator<'a>(part: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let (k, rest) = part.split_once(op)?;
    Some((k.trim(), rest.trim()))
}

fn value_set(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(|v| label_value(v.trim()))
        .collect::<Option<Vec<_>>>()
}

/// A label key: an optional DNS prefix and `/`, then a name of at most 63 characters.
pub fn label_key(k: &str) -> Option<String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if p.is_empty()
            || p.len() > 253
            || !p
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return None;
        }
    }
    (!name.is_empty() && label_value(name).is_some()).then(|| k.to_string())
}

/// A label value: at most 63 alphanumerics, `-`, `_` and `.`, starting and ending
/// alphanumeric; empty is allowed.
pub fn label_value(v: &str) -> Option<String> {
    let ok = v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && v.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && v.chars().last().is_none_or(|c| c.is_ascii_alphanumeric());
    ok.then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn equality_sets_and_existence() {
        let l = labels(json!({"app": "web", "tier": "front"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&l);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web)"));
        assert!(m("!team"));
        assert!(!m("team"));
        assert!(m("team!=x"));
        assert!(!m("app=web,tier=back"));
    }

    #[test]
    fn malformed_selectors_are_refused() {
        for s in ["app=we b", "=x", "a in b", "a in (x", "!", "a/=b", "x="] {
            if s == "x=" {
                assert!(LabelSelector::parse(s).is_ok(), "{s}");
                continue;
            }
            assert!(LabelSelector::parse(s).is_err(), "{s}");
        }
    }
}
