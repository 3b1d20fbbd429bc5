//! Password hashing (Argon2id, PHC strings) and random secrets.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Hashes a password or charger authorization key for storage.
pub fn hash(secret: &str) -> String {
    Argon2::default().hash_password(secret.as_bytes()).expect("argon2 with default parameters cannot fail").to_string()
}

pub fn verify(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// A random URL-safe secret with 256 bits of entropy, prefixed to say what it is.
pub fn random_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// How a high-entropy secret (an API key or login token) is looked up: its SHA-256, never itself.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("correct horse battery");
        assert!(super::verify("correct horse battery", &a));
        assert!(!super::verify("wrong", &a));
        assert!(!super::verify("correct horse battery", "not a hash"));
        assert_ne!(a, super::hash("correct horse battery"));
        assert!(super::random_secret("cmk_").starts_with("cmk_"));
    }
}
