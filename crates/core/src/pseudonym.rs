//! How a driver appears outside the member that owns the driver: as a pseudonym only that member can
//! compute (an HMAC of the card or account id under the member's secret), and on the ledger as a
//! commitment binding the pseudonym to one charge record, so nobody else can link two records to the
//! same driver.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The pseudonym of an id token under a member's secret: 20 upper-case hexadecimal characters
/// (80 bits), short enough to be an OCPP 1.6 id tag.
pub fn pseudonym(secret: &[u8; 32], id_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"chargemesh/pseudonym/1\0");
    mac.update(id_token.as_bytes());
    mac.finalize().into_bytes()[..10].iter().map(|b| format!("{b:02X}")).collect()
}

/// `H(pseudonym ‖ cdr_id)`, unambiguous because the pseudonym's length is part of the input.
pub fn token_commitment(pseudonym: &str, cdr_id: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"chargemesh/token-commitment/1\0");
    hash.update((pseudonym.len() as u64).to_be_bytes());
    hash.update(pseudonym.as_bytes());
    hash.update(cdr_id.as_bytes());
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_depend_on_the_secret_and_commitments_on_the_record() {
        let (a, b) = ([1; 32], [2; 32]);
        let card = "04A2B3C4D5E6F7";
        assert_eq!(pseudonym(&a, card), pseudonym(&a, card));
        assert_ne!(pseudonym(&a, card), pseudonym(&b, card));
        assert_eq!(pseudonym(&a, card).len(), 20);
        assert!(!pseudonym(&a, card).contains(card));
        let p = pseudonym(&a, card);
        assert_ne!(token_commitment(&p, "CDR-1"), token_commitment(&p, "CDR-2"));
        // The split between pseudonym and record id is fixed by the length prefix.
        assert_ne!(token_commitment("ab", "c"), token_commitment("a", "bc"));
    }

    #[test]
    fn the_construction_is_fixed() {
        // Computed independently (Python's hmac and hashlib): a change here would orphan every
        // pseudonym and commitment already given out.
        assert_eq!(pseudonym(&[0; 32], "CARD"), "0B817118553387B22FA5");
        let commitment: String = token_commitment("ab", "c").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(commitment, "9e5052c0b35b98537ad591548c8de925a05e83df679396762333ef0d711985bd");
    }
}
