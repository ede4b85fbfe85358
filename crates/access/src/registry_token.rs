//! Registry tokens: the short-lived JWTs `/openshift/token` hands out (Docker's token protocol),
//! signed with HS256 under a key derived from `httpSecret`, so every replica issues and checks
//! the same tokens.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::scope::Grant;

const ISSUER: &str = "berth";

/// What a registry token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    /// The principal's name (`alice`, `system:serviceaccount:p:n`, `system:anonymous`).
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: String,
    /// What the token grants, in the Docker token format.
    pub access: Vec<Grant>,
    /// The API token the login used, checked on every request so that revoking it stops its
    /// registry tokens too; absent for password and anonymous logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// For a password login: the user's uid, so that a token outlives neither the user nor a
    /// later user of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Clone)]
pub struct RegistryTokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl RegistryTokenSigner {
    pub fn new(http_secret: &[u8]) -> RegistryTokenSigner {
        let key = match Hmac::<Sha256>::new_from_slice(http_secret) {
            Ok(mut mac) => {
                mac.update(b"berth registry token signing key v1");
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; this arm is unreachable in practice.
            Err(_) => http_secret.to_vec(),
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.validate_aud = false;
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "sub", "nbf"]);
        RegistryTokenSigner {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// Verifies signature, algorithm (HS256 only: `none` and others are refused), issuer and
    /// time; answers the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        if token.len() > 16 * 1024 {
            return Err("token too long".into());
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn claims(exp_in: i64) -> Claims {
        let now = now_secs();
        Claims {
            iss: ISSUER.into(),
            sub: "alice".into(),
            aud: "registry".into(),
            exp: (now as i64 + exp_in) as u64,
            nbf: now,
            iat: now,
            jti: "x".into(),
            access: vec![],
            tid: None,
            uid: None,
        }
    }

    #[test]
    fn signs_and_verifies() {
        let s = RegistryTokenSigner::new(b"a secret of some length");
        let t = s.sign(&claims(60)).unwrap();
        assert_eq!(s.verify(&t).unwrap().sub, "alice");
    }

    #[test]
    fn refuses_expired_foreign_and_unsigned_tokens() {
        let s = RegistryTokenSigner::new(b"a secret of some length");
        assert!(s.verify(&s.sign(&claims(-120)).unwrap()).is_err());
        let other = RegistryTokenSigner::new(b"another secret entirely");
        assert!(s.verify(&other.sign(&claims(60)).unwrap()).is_err());
        // alg: none, with the same claims.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = b64.encode(serde_json::to_vec(&claims(60)).unwrap());
        assert!(s.verify(&format!("{header}.{body}.")).is_err());
        assert!(s.verify("not.a.jwt").is_err());
        // Tampered claims under a valid signature.
        let t = s.sign(&claims(60)).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let mut c = claims(60);
        c.sub = "admin".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(serde_json::to_vec(&c).unwrap()),
            parts[2]
        );
        assert!(s.verify(&forged).is_err());
    }
}
