//! Upload session references that any replica can check: `<id>.<issued-ms>.<mac>`, where the
//! MAC (HMAC-SHA256 with `httpSecret`) binds the upload id to its repository. A forged,
//! tampered or moved reference is refused before anything is looked up.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A verified upload reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadToken {
    pub id: String,
    pub issued_ms: i64,
}

pub(crate) struct UploadSigner {
    secret: Vec<u8>,
}

impl UploadSigner {
    pub(crate) fn new(secret: &[u8]) -> UploadSigner {
        UploadSigner {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, repository: &str, id: &str, issued_ms: i64) -> HmacSha256 {
        // new_from_slice accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
        mac.update(repository.as_bytes());
        mac.update(b"\n");
        mac.update(id.as_bytes());
        mac.update(b"\n");
        mac.update(issued_ms.to_string().as_bytes());
        mac
    }

    pub(crate) fn sign(&self, repository: &str, id: &str, issued_ms: i64) -> String {
        let tag = self.mac(repository, id, issued_ms).finalize().into_bytes();
        format!("{id}.{issued_ms}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks `reference` for `repository`; `None` when it is malformed or its MAC is wrong.
    pub(crate) fn verify(&self, repository: &str, reference: &str) -> Option<UploadToken> {
        let mut parts = reference.splitn(3, '.');
        let id = parts.next()?;
        let issued = parts.next()?;
        let issued_ms: i64 = issued.parse().ok()?;
        if issued_ms.to_string() != issued {
            return None; // only the canonical form that was signed
        }
        let tag = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.mac(repository, id, issued_ms)
            .verify_slice(&tag)
            .ok()?;
        Some(UploadToken {
            id: id.to_string(),
            issued_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_references_verify_only_for_their_repository() {
        let s = UploadSigner::new(b"secret");
        let id = "0123456789abcdef0123456789abcdef";
        let r = s.sign("p/a", id, 42);
        assert_eq!(s.verify("p/a", &r).unwrap().id, id);
        assert!(s.verify("p/b", &r).is_none());
        assert!(UploadSigner::new(b"other").verify("p/a", &r).is_none());
        let tampered = r.replace(".42.", ".43.");
        assert!(s.verify("p/a", &tampered).is_none());
        for other_form in [".042.", ".+42."] {
            assert!(
                s.verify("p/a", &r.replace(".42.", other_form)).is_none(),
                "{other_form}"
            );
        }
        for junk in ["", "x", "a.b.c", &format!("{id}.42."), "../../etc/passwd"] {
            assert!(s.verify("p/a", junk).is_none());
        }
    }
}
