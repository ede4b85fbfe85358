//! Berth's access control, between the metadata store and the HTTP service: who a caller is
//! (passwords, API tokens, registry tokens), and what it may do ([`roles`], one table and one
//! decision function). The HTTP layer extracts credentials and asks; nothing here knows HTTP.
//!
//! Decisions are made against the database on every request, so a revoked token or a removed
//! binding takes effect at once on every replica. Registry tokens only narrow what a caller may
//! do to what it asked for when it logged in.

mod principal;
pub mod registry_token;
pub mod roles;
pub mod scope;
pub mod secrets;
mod throttle;

pub use principal::{check_dns_label, check_group_name, check_user_name, Principal};
pub use roles::Verb;
pub use scope::{parse_scopes, Grant, RepositoryScope};

use berth_metadata::{ApiTokenRow, Metadata, MetadataError};
use registry_token::{now_secs, Claims, RegistryTokenSigner};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a registry token lasts.
pub const REGISTRY_TOKEN_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Credentials that are wrong, expired, revoked, forged or malformed.
    #[error("{0}")]
    Invalid(String),
    #[error("too many failed logins from this client: try again in {} seconds", .0.as_secs().max(1))]
    Throttled(Duration),
    #[error(transparent)]
    Backend(#[from] MetadataError),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Present when the caller came with a registry token: what that token grants. Registry
    /// calls are limited to it; other credentials are limited only by roles.
    pub registry_grants: Option<Vec<Grant>>,
    /// The API token the caller authenticated with (directly or through a registry token).
    pub token_id: Option<String>,
    /// Whether the caller proved a password (not a token) on this request.
    pub by_password: bool,
    /// The uid of the user who logged in with a password (registry tokens carry it).
    pub user_uid: Option<String>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            principal: Principal::Anonymous,
            registry_grants: None,
            token_id: None,
            by_password: false,
            user_uid: None,
        }
    }

    fn of(principal: Principal) -> Caller {
        Caller {
            principal,
            ..Caller::anonymous()
        }
    }
}

/// What the first-start bootstrap did.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Users existed already: nothing was done.
    Existing,
    /// The administrator was created; `generated` is its password when none was given.
    Created { generated: Option<String> },
}

/// A registry token as `/openshift/token` answers it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
    pub issued_at: u64,
}

#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    meta: Metadata,
    signer: RegistryTokenSigner,
    throttle: throttle::LoginThrottle,
    enabled: bool,
}

/// A well-formed argon2 hash of nothing anyone knows, checked when the user does not exist so
/// that a wrong user name takes as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8b2ZJ0wGmRpmJ7d3nA0Bxmq9c1xYQ3mPjv7m0H1b3Ws";

impl Access {
    /// Access control over `meta`; registry tokens are signed under a key derived from
    /// `http_secret`. With `enabled` false every caller may do everything (`auth: none`).
    pub fn new(meta: Metadata, http_secret: &[u8], enabled: bool) -> Access {
        Access {
            inner: Arc::new(Inner {
                meta,
                signer: RegistryTokenSigner::new(http_secret),
                throttle: throttle::LoginThrottle::default(),
                enabled,
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    pub fn metadata(&self) -> &Metadata {
        &self.inner.meta
    }

    // ---- authentication ----

    /// Basic auth: any user name with an API token as the password, or a user's own password.
    pub async fn authenticate_basic(
        &self,
        user: &str,
        secret: &str,
        client: IpAddr,
    ) -> Result<Caller, AuthError> {
        if secrets::looks_like_api_token(secret) {
            return self.api_token_caller(secret).await;
        }
        if let Some((rest_of_name, token)) = secret.rsplit_once(':') {
            if secrets::looks_like_api_token(token) {
                return Err(AuthError::Invalid(format!(
                    "login failed: the user name {:?} contains ':', which user names may not",
                    format!("{user}:{rest_of_name}")
                )));
            }
        }
        if let Err(why) = check_user_name(user) {
            return Err(AuthError::Invalid(format!("login failed: {why}")));
        }
        // Only password checks are throttled: they are what a guesser can hope to win, while
        // API and registry tokens are too long to guess (and throttling them would let one
        // client behind a shared address lock out every other).
        self.throttled(client, self.password_login(user, secret))
            .await
    }

    async fn password_login(&self, user: &str, secret: &str) -> Result<Caller, AuthError> {
        let row = self.inner.meta.user(user).await?;
        let stored = row
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let password = secret.to_string();
        let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &stored))
            .await
            .unwrap_or(false);
        match row {
            Some(u) if ok && u.password_hash.is_some() => {
                let mut caller = Caller::of(Principal::User(u.name));
                caller.by_password = true;
                caller.user_uid = Some(u.uid);
                Ok(caller)
            }
            _ if secret.contains(':') => Err(AuthError::Invalid(
                "login failed: wrong user name, password or token (note: a user name may not contain ':')".into(),
            )),
            _ => Err(AuthError::Invalid(
                "login failed: wrong user name, password or token".into(),
            )),
        }
    }

    /// Bearer auth: an API token, or a registry token from `/openshift/token`.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Caller, AuthError> {
        {
            if secrets::looks_like_api_token(token) {
                return self.api_token_caller(token).await;
            }
            let claims = self
                .inner
                .signer
                .verify(token)
                .map_err(|e| AuthError::Invalid(format!("invalid registry token: {e}")))?;
            let principal = if claims.sub == "system:anonymous" {
                Principal::Anonymous
            } else {
                Principal::parse_subject(&claims.sub)
                    .map_err(|e| AuthError::Invalid(format!("invalid registry token: {e}")))?
            };
            // The credential behind the token must still be valid: revoked tokens and deleted
            // users stop at once.
            let live = match (&claims.tid, &principal) {
                (Some(tid), _) => self
                    .inner
                    .meta
                    .api_token(tid)
                    .await?
                    .is_some_and(|row| owner(&row) == principal),
                (None, Principal::Anonymous) => true,
                (None, Principal::User(name)) => {
                    match (&claims.uid, self.inner.meta.user(name).await?) {
                        (Some(uid), Some(user)) => *uid == user.uid,
                        _ => false,
                    }
                }
                (None, Principal::ServiceAccount { .. }) => false,
            };
            if !live {
                return Err(AuthError::Invalid(
                    "the credential this registry token was issued for has been revoked or removed: log in again".into(),
                ));
            }
            Ok(Caller {
                principal,
                registry_grants: Some(claims.access),
                token_id: claims.tid,
                by_password: false,
                user_uid: claims.uid,
            })
        }
    }

    async fn api_token_caller(&self, secret: &str) -> Result<Caller, AuthError> {
        let row = self
            .inner
            .meta
            .api_token_by_secret(&secrets::token_hash(secret))
            .await?
            .ok_or_else(|| AuthError::Invalid("the token is unknown, expired or revoked".into()))?;
        let mut caller = Caller::of(owner(&row));
        caller.token_id = Some(row.id);
        Ok(caller)
    }

    /// Runs an authentication, slowing down and finally refusing a client that keeps failing.
    async fn throttled(
        &self,
        client: IpAddr,
        attempt: impl std::future::Future<Output = Result<Caller, AuthError>>,
    ) -> Result<Caller, AuthError> {
        match self.inner.throttle.begin(client) {
            throttle::Verdict::Refuse(wait) => return Err(AuthError::Throttled(wait)),
            throttle::Verdict::Go(delay) if !delay.is_zero() => {
                tracing::warn!(%client, delay_ms = delay.as_millis() as u64, "repeated failed logins");
                tokio::time::sleep(delay).await;
            }
            throttle::Verdict::Go(_) => {}
        }
        match attempt.await {
            Ok(c) => {
                self.inner.throttle.succeeded(client);
                Ok(c)
            }
            Err(AuthError::Invalid(m)) => Err(AuthError::Invalid(m)),
            Err(e) => {
                self.inner.throttle.release(client);
                Err(e)
            }
        }
    }

    // ---- authorization ----

    /// The roles `principal` holds in `project` (with the cluster-wide ones).
    pub async fn roles(
        &self,
        principal: &Principal,
        project: &str,
    ) -> Result<Vec<String>, MetadataError> {
        self.inner
            .meta
            .roles_of(project, &principal.name(), &principal.groups())
            .await
    }

    /// The decision: may `principal` do `verb` in `project` (`""`: cluster-wide)?
    pub async fn allows(
        &self,
        principal: &Principal,
        verb: Verb,
        project: &str,
    ) -> Result<bool, MetadataError> {
        if !self.enabled() {
            return Ok(true);
        }
        Ok(roles::allows(&self.roles(principal, project).await?, verb))
    }

    /// The projects in which `principal` may do `verb`; `None` when it may everywhere.
    pub async fn projects_allowing(
        &self,
        principal: &Principal,
        verb: Verb,
    ) -> Result<Option<Vec<String>>, MetadataError> {
        if self.allows(principal, verb, "").await? {
            return Ok(None);
        }
        let projects = self
            .inner
            .meta
            .projects_with_roles(
                &principal.name(),
                &principal.groups(),
                &roles::roles_allowing(verb),
            )
            .await?;
        Ok(Some(projects))
    }

    // ---- registry tokens ----

    /// What of `requested` the caller's roles allow: pull needs [`Verb::Pull`]; push and delete
    /// need [`Verb::Push`]; `*` is everything allowed.
    pub async fn grant(
        &self,
        caller: &Caller,
        requested: &[RepositoryScope],
    ) -> Result<Vec<Grant>, MetadataError> {
        let mut grants = Vec::new();
        for scope in requested {
            let project = scope.repository.project();
            let roles = if self.enabled() {
                self.roles(&caller.principal, project).await?
            } else {
                vec!["cluster-admin".to_string()]
            };
            let pull = roles::allows(&roles, Verb::Pull);
            let push = roles::allows(&roles, Verb::Push);
            let mut actions: Vec<String> = Vec::new();
            for a in &scope.actions {
                let (allowed, names): (bool, &[&str]) = match a.as_str() {
                    "pull" => (pull, &["pull"]),
                    "push" => (push, &["push"]),
                    "delete" => (push, &["delete"]),
                    _ => (true, &[]),
                };
                let names: Vec<&str> = if a == "*" {
                    [("pull", pull), ("push", push), ("delete", push)]
                        .into_iter()
                        .filter(|(_, ok)| *ok)
                        .map(|(n, _)| n)
                        .collect()
                } else if allowed {
                    names.to_vec()
                } else {
                    Vec::new()
                };
                for n in names {
                    if !actions.iter().any(|x| x == n) {
                        actions.push(n.to_string());
                    }
                }
            }
            grants.push(Grant {
                kind: "repository".into(),
                name: scope.repository.as_str().to_string(),
                actions,
            });
        }
        Ok(grants)
    }

    /// Signs a registry token for `caller` granting `grants`.
    pub fn issue(
        &self,
        caller: &Caller,
        grants: Vec<Grant>,
        service: &str,
    ) -> Result<IssuedToken, String> {
        let now = now_secs();
        let ttl = REGISTRY_TOKEN_TTL.as_secs();
        let claims = Claims {
            iss: "berth".into(),
            sub: caller.principal.name(),
            aud: service.to_string(),
            exp: now + ttl,
            nbf: now.saturating_sub(5),
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            access: grants,
            tid: caller.token_id.clone(),
            uid: caller
                .token_id
                .is_none()
                .then(|| caller.user_uid.clone())
                .flatten(),
        };
        Ok(IssuedToken {
            token: self.inner.signer.sign(&claims)?,
            expires_in: ttl,
            issued_at: now,
        })
    }

    // ---- passwords and bootstrap ----

    /// Hashes a password off the async runtime.
    pub async fn hash_password(&self, password: &str) -> Result<String, String> {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || secrets::hash_password(&password))
            .await
            .map_err(|e| e.to_string())?
    }

    /// At the first start (no users yet): creates the administrator `admin` with
    /// `admin_password` or a generated one, makes it `cluster-admin`, and lets every user
    /// create projects (`self-provisioner` to `system:authenticated:oauth`). Answers the
    /// generated password, to be shown once. Replicas racing here create one administrator.
    pub async fn bootstrap(&self, admin_password: Option<&str>) -> Result<Bootstrap, AuthError> {
        let meta = &self.inner.meta;
        if meta.has_users().await? {
            return Ok(Bootstrap::Existing);
        }
        let generated = admin_password.is_none().then(secrets::new_password);
        let password = admin_password
            .map(str::to_string)
            .or(generated.clone())
            .unwrap_or_default();
        let hash = self
            .hash_password(&password)
            .await
            .map_err(AuthError::Invalid)?;
        match meta.create_user("admin", Some(&hash)).await {
            Ok(_) => {}
            Err(MetadataError::AlreadyExists(_)) => return Ok(Bootstrap::Existing),
            Err(e) => return Err(e.into()),
        }
        meta.ensure_cluster_binding("cluster-admin", "User", "admin")
            .await?;
        meta.ensure_cluster_binding("self-provisioner", "Group", "system:authenticated:oauth")
            .await?;
        Ok(Bootstrap::Created { generated })
    }
}

/// The principal an API token belongs to.
pub fn owner(row: &ApiTokenRow) -> Principal {
    match (&row.sa_project, &row.sa_name, &row.user_name) {
        (Some(project), Some(name), _) => Principal::ServiceAccount {
            project: project.clone(),
            name: name.clone(),
        },
        (_, _, Some(user)) => Principal::User(user.clone()),
        _ => Principal::Anonymous,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_parses_so_unknown_users_cost_a_real_check() {
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
        assert!(!super::secrets::verify_password("x", super::DUMMY_HASH));
    }
}
