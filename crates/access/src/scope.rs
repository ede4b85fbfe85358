//! Scopes a client asks `/openshift/token` for (`repository:<project>/<name>:pull,push`) and
//! the grants a registry token carries.

use berth_oci::RepoName;
use serde::{Deserialize, Serialize};

/// One entry of a token's `access` list, in the Docker token format.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Grant {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Grant {
    pub fn allows(&self, repository: &str, action: &str) -> bool {
        self.kind == "repository"
            && self.name == repository
            && self.actions.iter().any(|a| a == action || a == "*")
    }
}

/// A requested repository scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryScope {
    pub repository: RepoName,
    pub actions: Vec<String>,
}

/// Parses one `scope` parameter. Several scopes may also come space-separated in one parameter.
/// Scopes of other resource types (`registry:catalog:*`) are ignored, as the token protocol
/// allows; a malformed repository scope is an error.
pub fn parse_scopes(param: &str) -> Result<Vec<RepositoryScope>, String> {
    let mut out = Vec::new();
    for scope in param.split(' ').filter(|s| !s.is_empty()) {
        if scope.len() > 1024 || scope.chars().any(char::is_control) {
            return Err("scope is too long or holds control characters".into());
        }
        let Some((kind, rest)) = scope.split_once(':') else {
            return Err(format!(
                "scope {scope:?} is not of the form type:name:actions"
            ));
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            return Err(format!(
                "scope {scope:?} is not of the form type:name:actions"
            ));
        };
        if kind != "repository" {
            continue;
        }
        let repository: RepoName = name
            .parse()
            .map_err(|e: berth_oci::NameError| format!("scope {scope:?}: {e}"))?;
        let mut list = Vec::new();
        for a in actions.split(',') {
            match a {
                "pull" | "push" | "delete" | "*" => {
                    if !list.iter().any(|x| x == a) {
                        list.push(a.to_string())
                    }
                }
                other => {
                    return Err(format!(
                        "scope {scope:?}: unknown action {other:?} (use pull, push, delete or *)"
                    ))
                }
            }
        }
        out.push(RepositoryScope {
            repository,
            actions: list,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scopes() {
        let s = parse_scopes("repository:p/n:pull,push").unwrap();
        assert_eq!(s[0].repository.as_str(), "p/n");
        assert_eq!(s[0].actions, ["pull", "push"]);
        assert!(parse_scopes("registry:catalog:*").unwrap().is_empty());
        assert_eq!(
            parse_scopes("repository:a/b:pull repository:c/d:*")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn refuses_malformed_and_injected_scopes() {
        for bad in [
            "repository:p/n",
            "repository:../x:pull",
            "repository:p/n:pull;drop",
            "repository:p/n:pull\nx",
            "repository:P/N:pull",
            "repository:p/n/x:pull",
            "repository:p/n\":pull",
            "nonsense",
        ] {
            assert!(parse_scopes(bad).is_err(), "{bad:?}");
        }
    }
}
