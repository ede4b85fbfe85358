//! What each client command does.

use reqwest::Method;
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};

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
        ClientCommand::Login(a) => login(a).await,
        ClientCommand::Logout(c) => logout(c).await,
        ClientCommand::Whoami(a) => whoami(a).await,
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
    }
}

/// The session from flags, environment and the stored configuration.
pub(super) fn session(opts: &ClientOpts) -> Result<Session, ClientError> {
    let stored = config::load(&config::path()?)?;
    let server = opts
        .server
        .clone()
        .or(stored.server)
        .ok_or_else(|| ClientError::new("not logged in: run berth login <url> -u <user>"))?;
    let token = opts.token.clone().or(stored.token);
    if token.is_none() {
        return Err(ClientError::new(format!(
            "not logged in: run berth login {server} -u <user>"
        )));
    }
    Session::new(&server, token, opts.insecure_skip_tls_verify)
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

// ---- login, logout, whoami ----

async fn login(a: LoginArgs) -> Result<(), ClientError> {
    let path = config::path()?;
    let (user, token) = match (&a.token, &a.user) {
        (Some(token), _) => {
            let s = Session::new(&a.url, Some(token.clone()), a.insecure_skip_tls_verify)?;
            let me = s.call(Method::GET, &format!("{USERS}/~"), None, None).await?;
            (str_of(&me, &["metadata", "name"]), token.clone())
        }
        (None, Some(user)) => {
            if user.contains(':') {
                return Err(ClientError::usage(format!(
                    "the user name {user:?} contains ':', which user names may not"
                )));
            }
            let password = match &a.password {
                Some(p) => p.clone(),
                None => read_password(a.password_stdin)?,
            };
            let s = Session::new(&a.url, None, a.insecure_skip_tls_verify)?;
            let v = s
                .call(Method::POST, TOKENS, Some(json!({})), Some((user, &password)))
                .await?;
            let token = v["token"]
                .as_str()
                .ok_or_else(|| ClientError::new("the server answered no token"))?;
            (user.clone(), token.to_string())
        }
        (None, None) => {
            return Err(ClientError::usage(
                "give a user name (-u USER, with -p PASSWORD or the password on standard input) or --token TOKEN",
            ))
        }
    };
    let server = a.url.trim_end_matches('/').to_string();
    config::save(
        &path,
        &ClientConfig {
            server: Some(server.clone()),
            user: Some(user.clone()),
            token: Some(token),
        },
    )?;
    print(&format!("Logged into \"{server}\" as \"{user}\".\n"));
    Ok(())
}

fn read_password(explicit_stdin: bool) -> Result<String, ClientError> {
    let stdin = std::io::stdin();
    if !explicit_stdin && stdin.is_terminal() {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| ClientError::new(format!("cannot read the password: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(ClientError::usage(
            "no password given: use -p PASSWORD or --password-stdin",
        ));
    }
    Ok(password)
}

async fn logout(opts: ClientOpts) -> Result<(), ClientError> {
    let path = config::path()?;
    let mut stored = config::load(&path)?;
    let s = session(&opts)?;
    if let Some(token) = &s.token {
        let id = berth_access::secrets::token_id(&berth_access::secrets::token_hash(token));
        match s
            .call(Method::DELETE, &format!("{TOKENS}/{id}"), None, None)
            .await
        {
            Ok(_) => {}
            // Already expired or revoked: forgetting it is all there is to do.
            Err(e)
                if e.message.starts_with("not found") || e.message.starts_with("unauthorized") => {}
            Err(e) => return Err(e),
        }
    }
    let user = stored.user.take().unwrap_or_default();
    stored.token = None;
    config::save(&path, &stored)?;
    print(&format!("Logged \"{user}\" out on \"{}\"\n", s.server));
    Ok(())
}

async fn whoami(a: WhoamiArgs) -> Result<(), ClientError> {
    let s = session(&a.client)?;
    if a.show_token {
        print(&format!("{}\n", s.token.clone().unwrap_or_default()));
        return Ok(());
    }
    let me = s
        .call(Method::GET, &format!("{USERS}/~"), None, None)
        .await?;
    print(&format!("{}\n", str_of(&me, &["metadata", "name"])));
    Ok(())
}

// ---- create ----

async fn create(c: CreateCommand) -> Result<(), ClientError> {
    match c {
        CreateCommand::User {
            name,
            password,
            output,
            client,
        } => {
            if name.contains(':') {
                return Err(ClientError::usage(format!(
                    "the user name {name:?} contains ':', which user names may not"
                )));
            }
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
                body["expiresIn"] = json!(d.as_secs().max(1));
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
}
