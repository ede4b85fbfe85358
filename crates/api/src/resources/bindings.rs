//! Role bindings: one `RoleBinding` per role in a project
//! (`/apis/authorization.openshift.io/v1/namespaces/<p>/rolebindings`), the cluster-wide ones
//! (`…/clusterrolebindings`, cluster-admin only), and the roles themselves (`…/clusterroles`).

use axum::http::Method;
use berth_access::{check_group_name, roles, Principal, Verb};
use berth_metadata::BindingRow;
use serde_json::{json, Value};

use super::status::deleted;
use super::{created, list, ok, str_at, Ctx, ResourceResult, Status};

const API_VERSION: &str = "authorization.openshift.io/v1";

/// Roles that mean something only cluster-wide.
const CLUSTER_ONLY: &[&str] = &["self-provisioner"];

fn binding_json(project: &str, role: &str, rows: &[&BindingRow]) -> Value {
    let mut subjects = Vec::new();
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for r in rows {
        if r.subject_kind == "Group" {
            subjects.push(json!({ "kind": "Group", "name": r.subject }));
            groups.push(r.subject.clone());
            continue;
        }
        users.push(r.subject.clone());
        match Principal::parse_subject(&r.subject) {
            Ok(Principal::ServiceAccount { project, name }) => subjects
                .push(json!({ "kind": "ServiceAccount", "name": name, "namespace": project })),
            _ => subjects.push(json!({ "kind": "User", "name": r.subject })),
        }
    }
    let mut metadata = json!({ "name": role });
    let kind = if project.is_empty() {
        "ClusterRoleBinding"
    } else {
        metadata["namespace"] = Value::String(project.to_string());
        "RoleBinding"
    };
    json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "roleRef": { "name": role },
        "subjects": subjects,
        "userNames": users,
        "groupNames": groups,
    })
}

/// Every binding of `project`, grouped by role.
fn grouped(project: &str, rows: &[BindingRow]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let role = &rows[i].role;
        let same: Vec<&BindingRow> = rows[i..].iter().take_while(|r| &r.role == role).collect();
        i += same.len();
        out.push(binding_json(project, role, &same));
    }
    out
}

/// The subjects of a binding body as stored `(kind, name)` pairs.
fn subjects(body: &Value, project: &str) -> Result<Vec<(String, String)>, Status> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |kind: &str, name: String| {
        let pair = (kind.to_string(), name);
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    let list = |key: &str| -> Result<Vec<Value>, Status> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) if a.len() <= 1000 => Ok(a.clone()),
            Some(_) => Err(Status::invalid(format!(
                "{key} must be a list of at most 1000 entries"
            ))),
        }
    };
    for s in list("subjects")? {
        let name =
            str_at(&s, &["name"]).ok_or_else(|| Status::invalid("every subject needs a name"))?;
        match str_at(&s, &["kind"]).unwrap_or("User") {
            "User" => {
                let p = Principal::parse_subject(name).map_err(Status::invalid)?;
                push("User", p.name());
            }
            "ServiceAccount" => {
                let ns = str_at(&s, &["namespace"]).unwrap_or(project);
                let p = Principal::parse_subject(&format!("system:serviceaccount:{ns}:{name}"))
                    .map_err(Status::invalid)?;
                push("User", p.name());
            }
            "Group" | "SystemGroup" => {
                check_group_name(name).map_err(Status::invalid)?;
                push("Group", name.to_string());
            }
            other => {
                return Err(Status::invalid(format!(
                    "subject kind {other:?} is not User, ServiceAccount or Group"
                )))
            }
        }
    }
    // As in OpenShift, `subjects` win when present: a binding read back and written with a
    // subject removed must not keep it through the legacy name lists.
    let legacy = matches!(body.get("subjects"), None | Some(Value::Null));
    for u in if legacy {
        list("userNames")?
    } else {
        Vec::new()
    } {
        let name = u
            .as_str()
            .ok_or_else(|| Status::invalid("userNames must hold strings"))?;
        push(
            "User",
            Principal::parse_subject(name)
                .map_err(Status::invalid)?
                .name(),
        );
    }
    for g in if legacy {
        list("groupNames")?
    } else {
        Vec::new()
    } {
        let name = g
            .as_str()
            .ok_or_else(|| Status::invalid("groupNames must hold strings"))?;
        check_group_name(name).map_err(Status::invalid)?;
        push("Group", name.to_string());
    }
    Ok(out)
}

fn check_role(role: &str, project: &str) -> Result<(), Status> {
    if !roles::is_role(role) {
        let known: Vec<&str> = roles::ROLES.iter().map(|(r, _)| *r).collect();
        return Err(Status::invalid(format!(
            "role {role:?} does not exist; the roles are: {}",
            known.join(", ")
        )));
    }
    if !project.is_empty() && CLUSTER_ONLY.contains(&role) {
        return Err(Status::invalid(format!(
            "role {role} is cluster-wide: bind it with berth adm policy add-cluster-role-to-user"
        )));
    }
    Ok(())
}

async fn require(ctx: &Ctx, project: &str) -> Result<(), Status> {
    if project.is_empty() {
        ctx.require_cluster(Verb::ManageCluster).await
    } else {
        ctx.require_in_project(Verb::AdminProject, project).await
    }
}

pub async fn collection(ctx: &Ctx, method: &Method, project: &str, body: Value) -> ResourceResult {
    require(ctx, project).await?;
    let meta = ctx.app.access.metadata();
    let (list_kind, kind) = if project.is_empty() {
        ("ClusterRoleBindingList", "clusterrolebinding")
    } else {
        ("RoleBindingList", "rolebinding")
    };
    match *method {
        Method::GET => {
            let rows = meta.bindings(project, None).await?;
            Ok(list(API_VERSION, list_kind, grouped(project, &rows)))
        }
        Method::POST => {
            let role = str_at(&body, &["roleRef", "name"])
                .or_else(|| str_at(&body, &["metadata", "name"]))
                .ok_or_else(|| Status::invalid("roleRef.name is required"))?;
            check_role(role, project)?;
            let subjects = subjects(&body, project)?;
            if subjects.is_empty() {
                return Err(Status::invalid(format!(
                    "a {kind} needs at least one subject"
                )));
            }
            meta.add_bindings(project, role, &subjects).await?;
            let rows = meta.bindings(project, Some(role)).await?;
            Ok(created(binding_json(
                project,
                role,
                &rows.iter().collect::<Vec<_>>(),
            )))
        }
        _ => Err(Status::method_not_allowed("GET, POST")),
    }
}

pub async fn item(
    ctx: &Ctx,
    method: &Method,
    project: &str,
    role: &str,
    body: Value,
) -> ResourceResult {
    require(ctx, project).await?;
    let meta = ctx.app.access.metadata();
    let kind = if project.is_empty() {
        "clusterrolebinding"
    } else {
        "rolebinding"
    };
    let current = meta.bindings(project, Some(role)).await?;
    match *method {
        Method::GET if current.is_empty() => Err(Status::not_found(kind, role)),
        Method::GET => Ok(ok(binding_json(
            project,
            role,
            &current.iter().collect::<Vec<_>>(),
        ))),
        Method::PUT => {
            check_role(role, project)?;
            if let Some(r) = str_at(&body, &["roleRef", "name"]) {
                if r != role {
                    return Err(Status::bad_request(format!(
                        "roleRef.name {r:?} does not match the binding {role:?} of the URL"
                    )));
                }
            }
            let subjects = subjects(&body, project)?;
            meta.replace_bindings(project, role, &subjects).await?;
            let rows = meta.bindings(project, Some(role)).await?;
            Ok(ok(binding_json(
                project,
                role,
                &rows.iter().collect::<Vec<_>>(),
            )))
        }
        Method::DELETE if current.is_empty() => Err(Status::not_found(kind, role)),
        Method::DELETE => {
            meta.replace_bindings(project, role, &[]).await?;
            Ok(deleted(&format!("{kind}s"), role))
        }
        _ => Err(Status::method_not_allowed("GET, PUT, DELETE")),
    }
}

/// The role table, for users to read.
pub fn roles(method: &Method) -> ResourceResult {
    if *method != Method::GET {
        return Err(Status::method_not_allowed("GET"));
    }
    let items = roles::ROLES
        .iter()
        .map(|(name, verbs)| {
            json!({
                "apiVersion": API_VERSION,
                "kind": "ClusterRole",
                "metadata": { "name": name },
                "verbs": verbs.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(list(API_VERSION, "ClusterRoleList", items))
}
