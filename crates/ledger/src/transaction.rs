//! Transactions: what a member asks the ledger to record, signed with its key. Nothing personal fits
//! in any of them: drivers appear only as a token commitment, and every free-form field is bounded
//! and describes equipment, tariffs or money, never a person.

use crate::codec::{self, DecodeError, MAX_TRANSACTION_BYTES};
use crate::keys::{PublicKey, Signature};
use crate::{Hash, hash_parts};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// What a member signs: the chain it is meant for, who sends it, the sender's next nonce and the
/// action.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct Transaction {
    /// The genesis hash: a transaction signed for one chain is invalid on any other.
    #[serde(with = "hex::serde")]
    pub chain: Hash,
    /// The sender's party id, e.g. `CN-NGR`.
    pub sender: String,
    /// One more than the sender's last accepted transaction; replays are rejected.
    pub nonce: u64,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct SignedTransaction {
    pub transaction: Transaction,
    pub signature: Signature,
}

impl Transaction {
    /// The bytes the sender signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let body = codec::encode(self);
        let mut message = Vec::with_capacity(body.len() + 24);
        message.extend_from_slice(b"chargemesh/transaction/1");
        message.extend_from_slice(&body);
        message
    }

    pub fn sign(self, key: &crate::MemberKey) -> SignedTransaction {
        let signature = key.sign(&self.signing_message());
        SignedTransaction { transaction: self, signature }
    }
}

impl SignedTransaction {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes a transaction as received from outside: strictly, and at most
    /// [`MAX_TRANSACTION_BYTES`] long.
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, DecodeError> {
        codec::decode(bytes, MAX_TRANSACTION_BYTES)
    }

    /// The transaction's id: the hash of its encoding, signature included.
    pub fn id(&self) -> Hash {
        hash_parts("chargemesh/transaction-id/1", &[&self.encode()])
    }

    pub fn verify_signature(&self, key: &PublicKey) -> bool {
        key.verifies(&self.transaction.signing_message(), &self.signature)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Propose(GovernanceAction),
    Vote {
        proposal: u64,
        approve: bool,
    },
    RegisterCharger(ChargerIdentity),
    ChargerLifecycle {
        evse_id: String,
        event: LifecycleEvent,
    },
    /// A tariff version as the JSON of chargemesh's tariff model (BILLING.md).
    PublishTariff {
        tariff_json: String,
    },
    AnchorCdr(CdrAnchor),
    DisputeCdr {
        cpo: String,
        cdr_id: String,
        reason: DisputeReason,
    },
    /// Proposes (by either party) or accepts (by the other) the amount a disputed CDR settles for.
    ResolveCdr {
        cpo: String,
        cdr_id: String,
        agreed_incl_tax: i64,
    },
    CloseClearing {
        period: u64,
    },
    ConfirmPaid {
        period: u64,
        transfer: u32,
    },
    ConfirmReceived {
        period: u64,
        transfer: u32,
    },
}

/// A member of the consortium as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Country code and party id, as OCPI writes them: `CN-NGR`.
    pub party_id: String,
    pub public_key: PublicKey,
    pub roles: Roles,
    /// The base URL of its federation (OCPI) endpoint.
    pub endpoint: String,
    /// Whether its node votes in consensus or only follows the chain.
    pub validator: bool,
    /// Where its node takes ledger connections from other members' nodes (`host:port`); empty when
    /// it has no node on the ledger network. Only nodes whose members' keys are in the registry can
    /// connect, so the address is not a secret.
    #[serde(default)]
    pub p2p_endpoint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Roles {
    /// Runs chargers.
    pub cpo: bool,
    /// Has drivers.
    pub emsp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GovernanceAction {
    AdmitMember(MemberRecord),
    RemoveMember { party_id: String },
    SetValidator { party_id: String, validator: bool },
    RotateKey { party_id: String, public_key: PublicKey },
    SetParameters(crate::parameters::Parameters),
}

/// A charger's digital identity.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct ChargerIdentity {
    /// The EVSE id, e.g. `CN*NGR*E12345*1`: unique in the consortium.
    pub evse_id: String,
    pub manufacturer: String,
    pub model: String,
    pub serial_number: String,
    pub max_power_watts: u64,
    pub connectors: Vec<ConnectorType>,
    /// The id of the metering device's type-approval certificate.
    pub metering_certificate: String,
    /// The IANA time zone its tariffs are evaluated in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorType {
    /// GB/T 20234.3 DC.
    GbtDc,
    /// GB/T 20234.2 AC.
    GbtAc,
    Ccs2,
    Type2,
    Chademo,
    Ccs1,
    Type1,
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub enum LifecycleEvent {
    /// In service from now.
    Installed,
    /// Its meter was calibrated; valid until `expires_at` (Unix milliseconds).
    Calibrated {
        certificate: String,
        expires_at: i64,
    },
    Repaired,
    /// Moved; tariffs are evaluated in its new time zone from now.
    Relocated {
        time_zone: String,
    },
    /// Out of service for good: it never anchors a charge again.
    Decommissioned,
}

/// A charge record as anchored: enough to re-price it and to verify the full off-chain CDR, nothing
/// about the driver but a commitment only the driver's own member can link.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
pub struct CdrAnchor {
    /// Unique per CPO.
    pub cdr_id: String,
    pub evse_id: String,
    /// The driver's member, which owes the charge.
    pub emsp: String,
    /// `H(pseudonym ‖ cdr_id)` computed by the eMSP's pseudonym for the driver.
    #[serde(with = "hex::serde")]
    pub token_commitment: [u8; 32],
    pub periods: Vec<AnchoredPeriod>,
    pub tariff_id: String,
    pub tariff_version: u32,
    pub claimed: ClaimedAmounts,
    /// SHA-256 of the full CDR kept off the chain by both members.
    #[serde(with = "hex::serde")]
    pub cdr_hash: [u8; 32],
}

/// A metered charging period: Unix milliseconds and milliwatt-hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AnchoredPeriod {
    pub start: i64,
    pub end: i64,
    pub energy_mwh: i64,
}

impl From<&chargemesh_core::pricing::ChargingPeriod> for AnchoredPeriod {
    fn from(period: &chargemesh_core::pricing::ChargingPeriod) -> AnchoredPeriod {
        AnchoredPeriod {
            start: period.start.as_millisecond(),
            end: period.end.as_millisecond(),
            energy_mwh: period.energy.mwh(),
        }
    }
}

/// What the CPO says the session costs, in minor units of the tariff's currency.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ClaimedAmounts {
    pub currency: String,
    pub energy: i64,
    pub service_fee: i64,
    pub charging_time: i64,
    pub idle_time: i64,
    pub flat: i64,
    pub adjustment: i64,
    pub excl_tax: i64,
    pub tax: i64,
    pub incl_tax: i64,
}

impl ClaimedAmounts {
    pub fn of(cdr: &chargemesh_core::pricing::PricedCdr) -> ClaimedAmounts {
        let t = &cdr.totals;
        ClaimedAmounts {
            currency: cdr.currency.code().to_owned(),
            energy: t.energy.0,
            service_fee: t.service_fee.0,
            charging_time: t.charging_time.0,
            idle_time: t.idle_time.0,
            flat: t.flat.0,
            adjustment: t.adjustment.0,
            excl_tax: t.excl_tax.0,
            tax: t.tax.0,
            incl_tax: t.incl_tax.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeReason {
    /// The driver says the session did not happen.
    UnknownSession,
    /// The energy or times differ from what the driver's member recorded.
    MeteringDiffers,
    /// The charger failed and the driver should not pay (fully or partly).
    ChargerFault,
    /// The same charge was billed twice.
    Duplicate,
    Other,
}
