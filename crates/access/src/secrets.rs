//! Passwords (argon2id) and API tokens (random, stored only as their SHA-256).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of every API token, as OpenShift's: it tells tokens from passwords.
pub const TOKEN_PREFIX: &str = "sha256~";

/// Hashes a password with argon2id and a random salt (PHC string). CPU-heavy: call it off the
/// async runtime.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored hash. CPU-heavy: call it off the async runtime.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new API token: its secret (shown once) and the SHA-256 that is stored.
pub fn new_api_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = token_hash(&secret);
    (secret, hash)
}

/// The stored form of a token secret.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of an API token (and may be looked up as one).
pub fn looks_like_api_token(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A token's identifier, shown in listings and used to revoke it: the first 16 hex digits of
/// its stored hash, so whoever holds the secret (`berth logout`) can name it without a lookup.
pub fn token_id(secret_hash: &str) -> String {
    secret_hash.chars().take(16).collect()
}

/// A random password for the bootstrapped administrator.
pub fn new_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_have_one_shape() {
        let (secret, hash) = new_api_token();
        assert!(looks_like_api_token(&secret));
        assert_eq!(hash, token_hash(&secret));
        assert_ne!(new_api_token().0, secret);
        assert!(!looks_like_api_token("sha256~short"));
        assert!(!looks_like_api_token("password"));
    }
}
