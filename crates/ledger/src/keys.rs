//! Member keys: ed25519. A member signs its transactions (and, later, its federation requests) with
//! the key the ledger's member registry holds for it.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A member's public key, 32 bytes, written as hex in files.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

impl PublicKey {
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.0).ok()
    }

    /// Whether `signature` is this key's over `message`; false for a key that is not a curve point.
    pub fn verifies(&self, message: &[u8], signature: &Signature) -> bool {
        self.verifying_key()
            .is_some_and(|key| key.verify(message, &ed25519_dalek::Signature::from_bytes(&signature.0)).is_ok())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl TryFrom<String> for PublicKey {
    type Error = String;
    fn try_from(text: String) -> Result<PublicKey, String> {
        let bytes = hex::decode(&text).map_err(|e| format!("a public key is 64 hex digits: {e}"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "a public key is 64 hex digits (32 bytes)".to_owned())?;
        let key = PublicKey(bytes);
        key.verifying_key().ok_or_else(|| "not an ed25519 public key".to_owned())?;
        Ok(key)
    }
}

impl From<PublicKey> for String {
    fn from(key: PublicKey) -> String {
        key.to_string()
    }
}

/// A member's signing key. Its bytes never appear in logs or debug output.
pub struct MemberKey(SigningKey);

impl MemberKey {
    pub fn from_seed(seed: [u8; 32]) -> MemberKey {
        MemberKey(SigningKey::from_bytes(&seed))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberKey({})", self.public_key())
    }
}

/// Verifies many signatures at once, about twice as fast as one by one per core, and split over the
/// machine's cores when there are many; false if any is bad.
pub fn verify_all(items: &[(&[u8], Signature, PublicKey)]) -> bool {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len() / PER_THREAD).max(1);
    if threads == 1 {
        return verify_batch(items);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let batches: Vec<_> = items.chunks(chunk).map(|batch| scope.spawn(move || verify_batch(batch))).collect();
        batches.into_iter().all(|batch| batch.join().unwrap_or(false))
    })
}

fn verify_batch(items: &[(&[u8], Signature, PublicKey)]) -> bool {
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    // Decompressing a key costs about as much as a third of a verification: once per member.
    let mut known: std::collections::BTreeMap<PublicKey, VerifyingKey> = std::collections::BTreeMap::new();
    for (message, signature, key) in items {
        let key = match known.get(key) {
            Some(verifying) => *verifying,
            None => {
                let Some(verifying) = key.verifying_key() else { return false };
                known.insert(*key, verifying);
                verifying
            }
        };
        messages.push(*message);
        signatures.push(ed25519_dalek::Signature::from_bytes(&signature.0));
        keys.push(key);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}
