//! Checks of the text fields transactions and the genesis carry: party ids, p2p endpoints, and
//! printable names.

use crate::rejection::Rejection;

/// `CN-NGR`: a country code, a dash and a three-character party id, as OCPI writes them.
pub fn check_party_id(party_id: &str) -> Result<(), Rejection> {
    let bytes = party_id.as_bytes();
    let valid = bytes.len() == 6
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2] == b'-'
        && bytes[3..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(Rejection::InvalidField { field: "party_id", problem: format!("{party_id:?} is not like CN-NGR") })
    }
}

/// A member's p2p address: empty, or `host:port` with a port from 1 to 65535.
pub fn check_p2p_endpoint(address: &str) -> Result<(), Rejection> {
    if address.is_empty() {
        return Ok(());
    }
    let problem = |problem: &str| Err(Rejection::InvalidField { field: "p2p_endpoint", problem: problem.into() });
    check_text("p2p_endpoint", address, 256)?;
    let Some((host, port)) = address.rsplit_once(':') else { return problem("host:port, e.g. ledger.example.cn:9100") };
    if host.is_empty() || host.contains(' ') {
        return problem("the host is missing");
    }
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return problem("the port must be a number from 1 to 65535");
    }
    Ok(())
}

/// Text fields of equipment and tariffs: 1 to `max` printable ASCII characters.
pub fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.is_empty() || value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(Rejection::InvalidField { field, problem: format!("1 to {max} printable ASCII characters") });
    }
    Ok(())
}
