//! What each client command does.

use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;

use super::args::*;
use super::config::{self, ClientConfig};
use super::output::{str_of, structured, Format};
use super::{ClientError, Session};

pub(super) const PROJECTS: &str = "/apis/project.openshift.io/v1/projects";
pub(super) const USERS: &str = "/apis/user.openshift.io/v1/users";
pub(super) const TOKENS: &str = "/apis/oauth.openshift.io/v1/oauthaccesstokens";
pub(super) const AUTHZ: &str = "/apis/authorization.openshift.io/v1";

/// Runs one client command.
pub async fn run(command: ClientCommand) -> Result<(), ClientError> {
    match command {
        ClientCommand::Login(a) => super::login::login(a).await,
        ClientCommand::Logout(c) => super::login::logout(c).await,
        ClientCommand::Whoami(a) => super::login::whoami(a).await,
        ClientCommand::NewProject(a) => {
            let s = session(&a.client)?;
            let v = s
                .call(
                    Method::POST,
                    PROJECTS,
                    Some(json!({"metadata": {"name": a.name}})),
                    None,
                )
                .await?;
            created(&v, "project", a.output.format)
        }
        ClientCommand::Get(a) => super::get::get(a).await,
        ClientCommand::Delete(a) => super::get::delete(a).await,
        ClientCommand::Create(c) => create(c).await,
        ClientCommand::Policy(p) => super::policy::policy(p).await,
        ClientCommand::Adm(AdmCommand::Policy(p)) => super::policy::adm_policy(p).await,
        ClientCommand::Tag(a) => super::tags::tag(a).await,
        ClientCommand::Rollback(a) => super::tags::rollback(a).await,
        ClientCommand::Describe(a) => super::tags::describe(a).await,
        ClientCommand::Patch(a) => super::get::patch(a).await,
    }
}

/// The session from flags, environment and the stored configuration. The stored token goes
/// only to the server it was issued by: with `--server` naming another one, give `--token` too.
pub(super) fn session(opts: &ClientOpts) -> Result<Session, ClientError> {
    let stored = config::load(&config::path()?)?;
    let (server, token) = pick_credentials(opts, &stored)?;
    Session::new(&server, Some(token), opts.insecure_skip_tls_verify)
}

fn pick_credentials(
    opts: &ClientOpts,
    stored: &ClientConfig,
) -> Result<(String, String), ClientError> {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let server = match (&opts.server, &stored.server) {
        (Some(s), _) | (None, Some(s)) => s.trim_end_matches('/').to_string(),
        (None, None) => {
            return Err(ClientError::new(
                "not logged in: run berth login <url> -u <user>",
            ))
        }
    };
    let stored_token = match &stored.server {
        Some(s) if same(s, &server) => stored.token.clone(),
        _ => None,
    };
    match (&opts.token, stored_token, &stored.server) {
        (Some(t), _, _) => Ok((server, t.clone())),
        (None, Some(t), _) => Ok((server, t)),
        (None, None, Some(other)) if stored.token.is_some() && !same(other, &server) => {
            Err(ClientError::new(format!(
                "not logged in to {server} (your token is for {other}): run berth login {server} -u <user>, or give --token"
            )))
        }
        (None, None, _) => Err(ClientError::new(format!(
            "not logged in: run berth login {server} -u <user>"
        ))),
    }
}

/// A token lifetime in whole seconds, at least one (the API's `0` means "never expires").
fn expires_in(d: std::time::Duration) -> Result<u64, ClientError> {
    match d.as_secs() {
        0 => Err(ClientError::usage(
            "--duration must be at least 1s; leave it out for a token that does not expire",
        )),
        secs => Ok(secs),
    }
}

pub(super) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

fn created(v: &Value, kind: &str, format: Format) -> Result<(), ClientError> {
    match format {
        Format::Table => print(&format!(
            "{kind} \"{}\" created\n",
            str_of(v, &["metadata", "name"])
        )),
        Format::Name => print(&format!("{kind}/{}\n", str_of(v, &["metadata", "name"]))),
        f => print(&structured(v, f)?),
    }
    Ok(())
}

// ---- create ----

async fn create(c: CreateCommand) -> Result<(), ClientError> {
    match c {
        CreateCommand::Trigger {
            name,
            from,
            url,
            headers,
            namespace,
            output,
            client,
        } => {
            let mut h = serde_json::Map::new();
            for pair in headers {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    ClientError::usage(format!("--header {pair:?}: give NAME=VALUE"))
                })?;
                h.insert(k.to_string(), Value::String(v.to_string()));
            }
            let body = json!({
                "metadata": {"name": name},
                "spec": {"from": {"kind": "ImageStreamTag", "name": from}, "url": url, "headers": h},
            });
            let v = session(&client)?
                .call(
                    Method::POST,
                    &format!(
                        "/apis/registry.berth.io/v1/namespaces/{namespace}/imagechangetriggers"
                    ),
                    Some(body),
                    None,
                )
                .await?;
            created(&v, "imagechangetrigger", output.format)
        }
        CreateCommand::User {
            name,
            password,
            output,
            client,
        } => {
            super::login::check_user_name(&name)?;
            let mut body = json!({"metadata": {"name": name}});
            if let Some(p) = password {
                body["password"] = Value::String(p);
            }
            let v = session(&client)?
                .call(Method::POST, USERS, Some(body), None)
                .await?;
            created(&v, "user", output.format)
        }
        CreateCommand::Serviceaccount {
            name,
            namespace,
            output,
            client,
        } => {
            let v = session(&client)?
                .call(
                    Method::POST,
                    &format!("/api/v1/namespaces/{namespace}/serviceaccounts"),
                    Some(json!({"metadata": {"name": name}})),
                    None,
                )
                .await?;
            created(&v, "serviceaccount", output.format)
        }
        CreateCommand::Token {
            target,
            namespace,
            duration,
            client,
        } => {
            let user = token_target(target.as_deref(), namespace.as_deref())?;
            let mut body = json!({});
            if let Some(u) = user {
                body["userName"] = Value::String(u);
            }
            if let Some(d) = duration {
                body["expiresIn"] = json!(expires_in(d.into())?);
            }
            let v = session(&client)?
                .call(Method::POST, TOKENS, Some(body), None)
                .await?;
            let token = v["token"]
                .as_str()
                .ok_or_else(|| ClientError::new("the server answered no token"))?;
            print(&format!("{token}\n"));
            Ok(())
        }
    }
}

/// `serviceaccount/NAME` with `-n PROJECT`, `system:serviceaccount:P:N`, or a user name.
fn token_target(
    target: Option<&str>,
    namespace: Option<&str>,
) -> Result<Option<String>, ClientError> {
    let Some(t) = target else { return Ok(None) };
    for prefix in ["serviceaccount/", "serviceaccounts/", "sa/"] {
        if let Some(name) = t.strip_prefix(prefix) {
            let ns = namespace.ok_or_else(|| {
                ClientError::usage(format!("{t}: say which project with -n PROJECT"))
            })?;
            return Ok(Some(format!("system:serviceaccount:{ns}:{name}")));
        }
    }
    Ok(Some(t.to_string()))
}

/// Percent-encodes a path segment (role names hold `:`).
pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_targets() {
        assert_eq!(
            token_target(Some("serviceaccount/ci"), Some("p")).unwrap(),
            Some("system:serviceaccount:p:ci".into())
        );
        assert!(token_target(Some("serviceaccount/ci"), None).is_err());
        assert_eq!(
            token_target(Some("alice"), None).unwrap(),
            Some("alice".into())
        );
        assert_eq!(token_target(None, None).unwrap(), None);
    }

    #[test]
    fn durations_become_whole_seconds() {
        let secs = |s: &str| expires_in(s.parse::<humantime::Duration>().unwrap().into());
        assert_eq!(secs("24h").unwrap(), 86_400);
        assert_eq!(secs("30d").unwrap(), 30 * 86_400);
        assert_eq!(secs("1h 30m").unwrap(), 5_400);
        assert_eq!(secs("0s").unwrap_err().code, 2);
        assert_eq!(secs("500ms").unwrap_err().code, 2);
        assert!("bogus".parse::<humantime::Duration>().is_err());
        assert!("30".parse::<humantime::Duration>().is_err());
    }

    fn opts(server: Option<&str>, token: Option<&str>) -> ClientOpts {
        ClientOpts {
            server: server.map(str::to_string),
            token: token.map(str::to_string),
            insecure_skip_tls_verify: false,
        }
    }

    #[test]
    fn the_stored_token_goes_only_to_its_own_server() {
        let stored = ClientConfig {
            server: Some("http://a:5000".into()),
            user: Some("u".into()),
            token: Some("sha256~stored".into()),
        };
        let pick = |o: ClientOpts, c: &ClientConfig| pick_credentials(&o, c);
        assert_eq!(
            pick(opts(None, None), &stored).unwrap(),
            ("http://a:5000".into(), "sha256~stored".into())
        );
        assert_eq!(
            pick(opts(Some("http://a:5000/"), None), &stored).unwrap(),
            ("http://a:5000".into(), "sha256~stored".into())
        );
        let e = pick(opts(Some("http://b:5000"), None), &stored).unwrap_err();
        assert!(
            e.message.contains("not logged in to http://b:5000"),
            "{}",
            e.message
        );
        assert_eq!(
            pick(opts(Some("http://b:5000"), Some("t")), &stored).unwrap(),
            ("http://b:5000".into(), "t".into())
        );
        assert_eq!(
            pick(opts(None, Some("t")), &stored).unwrap(),
            ("http://a:5000".into(), "t".into())
        );
        let none = ClientConfig::default();
        let e = pick(opts(None, None), &none).unwrap_err();
        assert!(
            e.message.contains("not logged in: run berth login <url>"),
            "{}",
            e.message
        );
        let e = pick(opts(Some("http://b:5000"), None), &none).unwrap_err();
        assert!(
            e.message
                .contains("not logged in: run berth login http://b:5000"),
            "{}",
            e.message
        );
    }
}
