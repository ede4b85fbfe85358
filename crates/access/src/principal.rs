//! Who a caller is: a user, a service account, or anonymous; and the groups that come with it.

use std::fmt;

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials: `system:anonymous`, in `system:unauthenticated`.
    Anonymous,
    User(String),
    ServiceAccount {
        project: String,
        name: String,
    },
}

const SA_PREFIX: &str = "system:serviceaccount:";

impl Principal {
    /// The name bindings and tokens use: `alice`, `system:serviceaccount:<project>:<name>`,
    /// `system:anonymous`.
    pub fn name(&self) -> String {
        match self {
            Principal::Anonymous => "system:anonymous".into(),
            Principal::User(n) => n.clone(),
            Principal::ServiceAccount { project, name } => format!("{SA_PREFIX}{project}:{name}"),
        }
    }

    /// The groups the principal is in by what it is.
    pub fn groups(&self) -> Vec<String> {
        match self {
            Principal::Anonymous => vec!["system:unauthenticated".into()],
            Principal::User(_) => vec![
                "system:authenticated".into(),
                "system:authenticated:oauth".into(),
            ],
            Principal::ServiceAccount { project, .. } => vec![
                "system:authenticated".into(),
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{project}"),
            ],
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }

    /// Parses a subject name as bindings and tokens write it: a service account's full name or
    /// a user name.
    pub fn parse_subject(s: &str) -> Result<Principal, String> {
        if let Some(rest) = s.strip_prefix(SA_PREFIX) {
            let (project, name) = rest.split_once(':').ok_or_else(|| {
                format!("{s:?} is not of the form system:serviceaccount:<project>:<name>")
            })?;
            check_dns_label("project", project)?;
            check_dns_label("service account", name)?;
            return Ok(Principal::ServiceAccount {
                project: project.into(),
                name: name.into(),
            });
        }
        check_user_name(s)?;
        Ok(Principal::User(s.into()))
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A user name: 1–253 characters of lowercase letters, digits, `.`, `-`, `_`, `@`; never `:`
/// (registry logins send `user:password`), and not in the reserved `system:` space.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.contains(':') {
        return Err(format!(
            "user name {name:?} contains ':', which user names may not (registry logins send user:password)"
        ));
    }
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_' | b'@')
        })
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "user name {:?} is not valid: use 1-253 lowercase letters, digits, '.', '-', '_' or '@', starting with a letter or digit",
            truncate(name)
        ))
    }
}

/// A group name: like a user name, but `:` is allowed (`system:serviceaccounts:<project>`).
pub fn check_group_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'-' | b'_' | b'@' | b':')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "group name {:?} is not valid: use lowercase letters, digits, '.', '-', '_', '@' or ':'",
            truncate(name)
        ))
    }
}

/// A project or service account name: a DNS label (lowercase letters, digits, `-`; 1–63).
pub fn check_dns_label(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} name {:?} is not valid: use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
            truncate(name)
        ))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_groups() {
        let sa = Principal::parse_subject("system:serviceaccount:team-a:builder").unwrap();
        assert_eq!(sa.name(), "system:serviceaccount:team-a:builder");
        assert!(sa
            .groups()
            .contains(&"system:serviceaccounts:team-a".to_string()));
        assert_eq!(
            Principal::parse_subject("alice").unwrap(),
            Principal::User("alice".into())
        );
        assert!(Principal::Anonymous
            .groups()
            .contains(&"system:unauthenticated".to_string()));
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "",
            "a:b",
            "Alice",
            "-x",
            "a b",
            "system:serviceaccount:p",
            "é",
        ] {
            assert!(Principal::parse_subject(bad).is_err(), "{bad}");
        }
        assert!(check_user_name("a:b").unwrap_err().contains("':'"));
        assert!(check_dns_label("project", "Team").is_err());
        assert!(check_group_name("system:unauthenticated").is_ok());
        assert!(check_group_name("bad group").is_err());
    }
}
