//! `berth policy` and `berth adm policy`: adding subjects to a role's binding, and removing
//! them (read the binding, write it back without them).

use reqwest::Method;
use serde_json::{json, Value};

use super::args::{AdmPolicyCommand, PolicyCommand};
use super::commands::{print, session, urlencode, AUTHZ};
use super::output::str_of;
use super::{ClientError, Session};

fn subject(kind: &str, name: &str) -> Value {
    json!({"kind": kind, "name": name})
}

pub(super) async fn policy(p: PolicyCommand) -> Result<(), ClientError> {
    let (a, kind, add) = match p {
        PolicyCommand::AddRoleToUser(a) => (a, "User", true),
        PolicyCommand::AddRoleToGroup(a) => (a, "Group", true),
        PolicyCommand::RemoveRoleFromUser(a) => (a, "User", false),
        PolicyCommand::RemoveRoleFromGroup(a) => (a, "Group", false),
    };
    let s = session(&a.client)?;
    let path = format!("{AUTHZ}/namespaces/{}/rolebindings", a.namespace);
    change_binding(
        &s,
        &path,
        &a.role,
        kind,
        &a.subject,
        add,
        &format!("in project {}", a.namespace),
    )
    .await
}

pub(super) async fn adm_policy(p: AdmPolicyCommand) -> Result<(), ClientError> {
    let (a, kind, add) = match p {
        AdmPolicyCommand::AddClusterRoleToUser(a) => (a, "User", true),
        AdmPolicyCommand::AddClusterRoleToGroup(a) => (a, "Group", true),
        AdmPolicyCommand::RemoveClusterRoleFromUser(a) => (a, "User", false),
        AdmPolicyCommand::RemoveClusterRoleFromGroup(a) => (a, "Group", false),
    };
    let s = session(&a.client)?;
    let path = format!("{AUTHZ}/clusterrolebindings");
    change_binding(&s, &path, &a.role, kind, &a.subject, add, "cluster-wide").await
}

async fn change_binding(
    s: &Session,
    path: &str,
    role: &str,
    kind: &str,
    name: &str,
    add: bool,
    scope: &str,
) -> Result<(), ClientError> {
    if kind == "User" && name.contains(':') && !name.starts_with("system:serviceaccount:") {
        return Err(ClientError::usage(format!(
            "the user name {name:?} contains ':', which user names may not"
        )));
    }
    if add {
        s.call(
            Method::POST,
            path,
            Some(json!({"roleRef": {"name": role}, "subjects": [subject(kind, name)]})),
            None,
        )
        .await?;
        print(&format!(
            "{kind} \"{name}\" added to role \"{role}\" {scope}\n"
        ));
        return Ok(());
    }
    let item = format!("{path}/{}", urlencode(role));
    let current = s.call(Method::GET, &item, None, None).await?;
    let keep: Vec<Value> = current["subjects"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|sub| {
            let full = match sub["kind"].as_str() {
                Some("ServiceAccount") => format!(
                    "system:serviceaccount:{}:{}",
                    str_of(sub, &["namespace"]),
                    str_of(sub, &["name"])
                ),
                _ => str_of(sub, &["name"]),
            };
            let sub_kind = if sub["kind"] == "Group" {
                "Group"
            } else {
                "User"
            };
            !(sub_kind == kind && full == name)
        })
        .collect();
    let before = current["subjects"].as_array().map(Vec::len).unwrap_or(0);
    if keep.len() == before {
        return Err(ClientError::new(format!(
            "{kind} \"{name}\" does not have role \"{role}\" {scope}"
        )));
    }
    s.call(
        Method::PUT,
        &item,
        Some(json!({"roleRef": {"name": role}, "subjects": keep})),
        None,
    )
    .await?;
    print(&format!(
        "{kind} \"{name}\" removed from role \"{role}\" {scope}\n"
    ));
    Ok(())
}
