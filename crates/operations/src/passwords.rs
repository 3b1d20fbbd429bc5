//! Password hashing (Argon2id, PHC strings) and random secrets.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The shortest and longest password accepted (Argon2 of a megabyte is a denial of service).
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Why a new password is refused, in words for the person choosing it; `None` when it is fine.
/// Beyond its length, a password must not be guessable: common passwords, keyboard walks, repeats,
/// dates and the account's own name are refused by a strength estimator (zxcvbn: a score below 3
/// means fewer than about 10⁸ guesses).
pub fn weakness(password: &str, user_inputs: &[&str]) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Some(format!("password must be at least {MIN_CHARS} characters"));
    }
    if chars > MAX_CHARS {
        return Some(format!("password must be at most {MAX_CHARS} characters"));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        let hint = estimate.feedback().and_then(|f| f.warning().map(|w| format!(" ({w})"))).unwrap_or_default();
        return Some(format!(
            "password is too easy to guess{hint}: use a longer, less common one, e.g. several unrelated words"
        ));
    }
    None
}

/// Hashes a password or charger authorization key for storage.
pub fn hash(secret: &str) -> String {
    Argon2::default().hash_password(secret.as_bytes()).expect("argon2 with default parameters cannot fail").to_string()
}

/// Whether `secret` is the one `stored` is the hash of, taking as long when there is no hash (an
/// unknown account or charger), so that timing does not tell which exist. Blocking: tens of
/// milliseconds of CPU.
pub fn matches(secret: &str, stored: Option<&str>) -> bool {
    static UNKNOWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // Longer than any accepted password: wrong, without hashing a megabyte.
    if secret.chars().count() > MAX_CHARS {
        return false;
    }
    match stored {
        Some(hash) => verify(secret, hash),
        None => {
            verify(secret, UNKNOWN.get_or_init(|| hash(&random_secret(""))));
            false
        }
    }
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

    #[test]
    fn weak_short_and_huge_passwords_are_refused() {
        assert!(super::weakness("short", &[]).unwrap().contains("at least 12"));
        assert!(super::weakness(&"x".repeat(129), &[]).unwrap().contains("at most 128"));
        for weak in ["password1234", "aaaaaaaaaaaa", "qwertyuiop12", "123456789012"] {
            assert!(super::weakness(weak, &[]).unwrap().contains("too easy to guess"), "{weak}");
        }
        assert!(super::weakness("pearlriver-ops1", &["pearlriver-ops"]).is_some(), "the account's own name");
        assert_eq!(super::weakness("correct horse battery staple", &[]), None);
    }
}
