//! `berth login`, `berth logout` and `berth whoami`: getting an API token, keeping it in the
//! client configuration, and giving it up.

use reqwest::Method;
use serde_json::json;
use std::io::{BufRead, IsTerminal};

use super::args::{ClientOpts, LoginArgs, WhoamiArgs};
use super::commands::{print, session, TOKENS, USERS};
use super::config::{self, ClientConfig};
use super::output::str_of;
use super::{ClientError, Session};

/// User names never hold `:` (Basic auth splits on the first one).
pub(super) fn check_user_name(name: &str) -> Result<(), ClientError> {
    if name.contains(':') {
        return Err(ClientError::usage(format!(
            "the user name {name:?} contains ':', which user names may not"
        )));
    }
    Ok(())
}

pub(super) async fn login(a: LoginArgs) -> Result<(), ClientError> {
    if let Some(user) = &a.user {
        check_user_name(user)?;
    }
    let path = config::path()?;
    let (user, token) = match (&a.token, &a.user) {
        (Some(token), _) => {
            let s = Session::new(&a.url, Some(token.clone()), a.insecure_skip_tls_verify)?;
            let me = s.call(Method::GET, &format!("{USERS}/~"), None, None).await?;
            (str_of(&me, &["metadata", "name"]), token.clone())
        }
        (None, Some(user)) => {
            // Checked before the password is asked for.
            let s = Session::new(&a.url, None, a.insecure_skip_tls_verify)?;
            let password = match &a.password {
                Some(p) => p.clone(),
                None => read_password(a.password_stdin)?,
            };
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

/// The password from standard input: asked for without echo on a terminal, else its first line.
fn read_password(explicit_stdin: bool) -> Result<String, ClientError> {
    let stdin = std::io::stdin();
    let password = if !explicit_stdin && stdin.is_terminal() {
        rpassword::prompt_password("Password: ")
            .map_err(|e| ClientError::new(format!("cannot read the password: {e}")))?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| ClientError::new(format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.is_empty() {
        return Err(ClientError::usage(
            "no password given: use -p PASSWORD or --password-stdin",
        ));
    }
    Ok(password)
}

/// Revokes the token on the server (best effort, as `oc logout`) and forgets it here.
pub(super) async fn logout(opts: ClientOpts) -> Result<(), ClientError> {
    let path = config::path()?;
    let mut stored = config::load(&path)?;
    let s = session(&opts)?;
    let token = s.token.clone().unwrap_or_default();
    let id = berth_access::secrets::token_id(&berth_access::secrets::token_hash(&token));
    match s
        .call(Method::DELETE, &format!("{TOKENS}/{id}"), None, None)
        .await
    {
        Ok(_) => {}
        // Already expired or revoked: forgetting it is all there is to do.
        Err(e) if e.message.contains("not found") || e.message.contains("unauthorized") => {}
        Err(e) => eprintln!(
            "warning: the token was not revoked on {} ({}); it stays valid until it expires or someone runs berth delete token {id}",
            s.server,
            e.message.replace('\n', " ")
        ),
    }
    let user = if stored.token.as_deref() == Some(token.as_str()) {
        stored.token = None;
        let user = stored.user.take().unwrap_or_default();
        config::save(&path, &stored)?;
        user
    } else {
        // A token given with --token or BERTH_TOKEN: the stored login stays.
        String::new()
    };
    if user.is_empty() {
        print(&format!("Logged out on \"{}\"\n", s.server));
    } else {
        print(&format!("Logged \"{user}\" out on \"{}\"\n", s.server));
    }
    Ok(())
}

pub(super) async fn whoami(a: WhoamiArgs) -> Result<(), ClientError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_with_a_colon_are_refused() {
        assert!(check_user_name("alice").is_ok());
        let e = check_user_name("a:b").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("':'"), "{}", e.message);
    }
}
