//! Repository names, tags and manifest references.
//!
//! Berth follows the integrated registry: a repository is always `<project>/<name>`. The project is
//! a DNS label (lowercase letters, digits and `-`, at most 63 characters); the name is one OCI path
//! component (lowercase letters and digits, separated by `.`, `_`, `__` or runs of `-`).

use crate::digest::{Digest, DigestError};
use std::fmt;
use std::str::FromStr;

const EXPECTED_FORM: &str = "expected <project>/<name>: a lowercase DNS label (a-z, 0-9, '-', at most 63 characters), '/', and a lowercase name (a-z, 0-9 separated by '.', '_', '__' or '-')";
const MAX_NAME_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid repository name {name:?}: {reason}; {EXPECTED_FORM}")]
    Repository { name: String, reason: &'static str },
    #[error("invalid tag {0:?}: a tag is 1 to 128 characters of a-z, A-Z, 0-9, '_', '.' and '-', not starting with '.' or '-'")]
    Tag(String),
    #[error("invalid reference {0:?}: {1}")]
    Reference(String, DigestError),
}

/// A validated `<project>/<name>` repository name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName {
    full: String,
    slash: usize,
}

impl RepoName {
    pub fn as_str(&self) -> &str {
        &self.full
    }

    pub fn project(&self) -> &str {
        &self.full[..self.slash]
    }

    pub fn image(&self) -> &str {
        &self.full[self.slash + 1..]
    }
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// One OCI path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|c| *c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

impl FromStr for RepoName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| NameError::Repository {
            name: s.to_string(),
            reason,
        };
        if s.len() > MAX_NAME_LEN {
            return Err(err("longer than 255 characters"));
        }
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() != 2 {
            return Err(err("it must have exactly two parts"));
        }
        if !is_dns_label(parts[0]) {
            return Err(err("the project part is not a DNS label"));
        }
        if !is_path_component(parts[1]) {
            return Err(err("the name part is not a valid lowercase name"));
        }
        Ok(RepoName {
            full: s.to_string(),
            slash: parts[0].len(),
        })
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoName({})", self.full)
    }
}

/// A validated tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c));
        if ok {
            Ok(Tag(s.to_string()))
        } else {
            Err(NameError::Tag(s.to_string()))
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What follows `/manifests/`: a tag or a digest.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl FromStr for Reference {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            s.parse()
                .map(Reference::Digest)
                .map_err(|e| NameError::Reference(s.to_string(), e))
        } else {
            s.parse().map(Reference::Tag)
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_project_and_name() {
        for good in [
            "p/n",
            "my-project/app",
            "a1/b.c",
            "x/a__b",
            "x/a---b",
            "x/a_b.c-d",
        ] {
            let n: RepoName = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(n.as_str(), good);
        }
        let n: RepoName = "proj/img".parse().unwrap();
        assert_eq!((n.project(), n.image()), ("proj", "img"));
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "", "a", "a/b/c", "/a", "a/", "A/b", "a/B", "a//b", "../a", "a/..", "a/.b", "-a/b",
            "a-/b", "a/b-", "a/b..c", "a/b___c", "a%2Fb/c", "a/b%2Fc", "a b/c", "a/b\u{0}",
        ] {
            assert!(bad.parse::<RepoName>().is_err(), "{bad:?} accepted");
        }
        let long = format!("{}/b", "a".repeat(64));
        assert!(long.parse::<RepoName>().is_err());
    }

    #[test]
    fn tags_and_references() {
        assert!("latest".parse::<Tag>().is_ok());
        assert!("_x.Y-1".parse::<Tag>().is_ok());
        assert!(".x".parse::<Tag>().is_err());
        assert!("-x".parse::<Tag>().is_err());
        assert!("a".repeat(129).parse::<Tag>().is_err());
        assert!("a/b".parse::<Tag>().is_err());
        assert!(matches!("v1".parse::<Reference>(), Ok(Reference::Tag(_))));
        assert!("sha256:abc".parse::<Reference>().is_err());
    }
}
