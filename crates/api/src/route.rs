//! Parsing a request path under `/v2/` into a typed [`Endpoint`].
//!
//! Repository names contain `/`, so the path is parsed from its end: the last `/manifests/`,
//! `/blobs/`, `/referrers/` or `/tags/list` splits the repository name from the rest. The raw
//! (still percent-encoded) path is parsed, so `%2F` or `..` in a name are refused as
//! NAME_INVALID rather than decoded into something else.

use berth_oci::{Digest, NameError, Reference, RepoName};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags(RepoName),
    /// `/v2/<name>/manifests/<reference>`
    Manifest(RepoName, Reference),
    /// `/v2/<name>/blobs/<digest>`
    Blob(RepoName, Digest),
    /// `/v2/<name>/blobs/uploads/`
    StartUpload(RepoName),
    /// `/v2/<name>/blobs/uploads/<reference>`
    Upload(RepoName, String),
    /// `/v2/<name>/referrers/<digest>`
    Referrers(RepoName, Digest),
}

impl Endpoint {
    /// The methods this endpoint answers, for the `Allow` header of a 405.
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Endpoint::Base => "GET, HEAD",
            Endpoint::Catalog | Endpoint::Tags(_) | Endpoint::Referrers(..) => "GET",
            Endpoint::Manifest(..) => "GET, HEAD, PUT, DELETE",
            Endpoint::Blob(..) => "GET, HEAD, DELETE",
            Endpoint::StartUpload(_) => "POST",
            Endpoint::Upload(..) => "GET, PATCH, PUT, DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no such endpoint")]
    NotFound,
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{0}")]
    Digest(String),
}

/// Parses the part of the path after `/v2/`.
pub fn parse(rest: &str) -> Result<Endpoint, RouteError> {
    if rest.is_empty() {
        return Ok(Endpoint::Base);
    }
    if rest == "_catalog" {
        return Ok(Endpoint::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Ok(Endpoint::Tags(name.parse()?));
    }
    if let Some(name) = rest
        .strip_suffix("/blobs/uploads/")
        .or_else(|| rest.strip_suffix("/blobs/uploads"))
    {
        return Ok(Endpoint::StartUpload(name.parse()?));
    }
    if let Some((name, reference)) = rest.rsplit_once("/blobs/uploads/") {
        if reference.is_empty() || reference.contains('/') {
            return Err(RouteError::NotFound);
        }
        return Ok(Endpoint::Upload(name.parse()?, reference.to_string()));
    }
    if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        let repo: RepoName = name.parse()?;
        return Ok(Endpoint::Manifest(repo, reference.parse()?));
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        let repo: RepoName = name.parse()?;
        return Ok(Endpoint::Blob(repo, parse_digest(digest)?));
    }
    if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
        let repo: RepoName = name.parse()?;
        return Ok(Endpoint::Referrers(repo, parse_digest(digest)?));
    }
    Err(RouteError::NotFound)
}

fn parse_digest(s: &str) -> Result<Digest, RouteError> {
    s.parse()
        .map_err(|e: berth_oci::DigestError| RouteError::Digest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(s: &str) -> RepoName {
        s.parse().unwrap()
    }

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_every_endpoint() {
        assert_eq!(parse(""), Ok(Endpoint::Base));
        assert_eq!(parse("_catalog"), Ok(Endpoint::Catalog));
        assert_eq!(parse("p/n/tags/list"), Ok(Endpoint::Tags(repo("p/n"))));
        assert_eq!(
            parse("p/n/manifests/latest"),
            Ok(Endpoint::Manifest(
                repo("p/n"),
                Reference::Tag("latest".parse().unwrap())
            ))
        );
        assert_eq!(
            parse(&format!("p/n/manifests/{D}")),
            Ok(Endpoint::Manifest(
                repo("p/n"),
                Reference::Digest(D.parse().unwrap())
            ))
        );
        assert_eq!(
            parse(&format!("p/n/blobs/{D}")),
            Ok(Endpoint::Blob(repo("p/n"), D.parse().unwrap()))
        );
        assert_eq!(
            parse("p/n/blobs/uploads/"),
            Ok(Endpoint::StartUpload(repo("p/n")))
        );
        assert_eq!(
            parse("p/n/blobs/uploads/abc"),
            Ok(Endpoint::Upload(repo("p/n"), "abc".into()))
        );
        assert_eq!(
            parse(&format!("p/n/referrers/{D}")),
            Ok(Endpoint::Referrers(repo("p/n"), D.parse().unwrap()))
        );
    }

    #[test]
    fn refuses_bad_names_and_paths() {
        for bad in [
            "a/b/c/tags/list",
            "../x/tags/list",
            "p%2Fn/x/tags/list",
            "P/n/tags/list",
            "p//n/tags/list",
            "p/n/manifests/..",
            "p/n/manifests/",
        ] {
            assert!(matches!(parse(bad), Err(RouteError::Name(_))), "{bad}");
        }
        assert!(matches!(
            parse("p/n/blobs/sha256:zz"),
            Err(RouteError::Digest(_))
        ));
        assert_eq!(parse("p/n/other"), Err(RouteError::NotFound));
        assert_eq!(parse("p/n/blobs/uploads/a/b"), Err(RouteError::NotFound));
    }
}
