//! How a driver appears outside the member that owns the driver: to each other member as a
//! pseudonym of its own that only the driver's member can compute (an HMAC of the card or account
//! id and the other member's party id under the member's secret), so that members pooling what
//! they saw cannot link it to one driver; and on the ledger as a commitment binding the pseudonym
//! to one charge record, so nobody else can link two records to the same driver.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The pseudonym of an id token toward member `counterpart` (the party id of the member that sees
/// it, e.g. the charger's) under the driver's member's secret: 20 upper-case hexadecimal characters
/// (80 bits), short enough to be an OCPP 1.6 id tag. Party ids hold no NUL, so the input splits one
/// way only.
pub fn pseudonym(secret: &[u8; 32], counterpart: &str, id_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"chargemesh/pseudonym/2\0");
    mac.update(counterpart.as_bytes());
    mac.update(b"\0");
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
    fn pseudonyms_depend_on_the_secret_and_the_counterpart_and_commitments_on_the_record() {
        let (a, b) = ([1; 32], [2; 32]);
        let card = "04A2B3C4D5E6F7";
        assert_eq!(pseudonym(&a, "CN-M02", card), pseudonym(&a, "CN-M02", card));
        assert_ne!(pseudonym(&a, "CN-M02", card), pseudonym(&b, "CN-M02", card));
        assert_ne!(pseudonym(&a, "CN-M02", card), pseudonym(&a, "CN-M03", card), "each member sees its own");
        assert_eq!(pseudonym(&a, "CN-M02", card).len(), 20);
        assert!(!pseudonym(&a, "CN-M02", card).contains(card));
        let p = pseudonym(&a, "CN-M02", card);
        assert_ne!(token_commitment(&p, "CDR-1"), token_commitment(&p, "CDR-2"));
        // The split between pseudonym and record id is fixed by the length prefix.
        assert_ne!(token_commitment("ab", "c"), token_commitment("a", "bc"));
    }

    #[test]
    fn the_construction_is_fixed() {
        // Computed independently (Python's hmac and hashlib): a change here would orphan every
        // pseudonym and commitment already given out.
        assert_eq!(pseudonym(&[0; 32], "CN-M02", "CARD"), "ABD93426582C5FAB319B");
        let commitment: String = token_commitment("ab", "c").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(commitment, "9e5052c0b35b98537ad591548c8de925a05e83df679396762333ef0d711985bd");
    }
}
