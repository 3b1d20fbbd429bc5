//! Who may do what on a node: the roles of staff accounts and what each needs.
//!
//! A node belongs to one consortium **member** and hosts one or more **operators**. The member's own
//! roles speak for the node in the consortium (governance, ledger submissions, OCPI partners,
//! clearing); the operators' roles run their charging business. An operator's staff never reach
//! the member's powers, whatever their role: a role is either one or the other.

use serde::{Deserialize, Serialize};

/// A staff account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The member's administrator: everything, on every operator the node hosts, and the consortium.
    MemberAdmin,
    /// The member's finance staff: reads everything, confirms clearing transfers.
    MemberFinance,
    /// The member's auditor: reads everything, changes nothing.
    MemberReadonly,
    /// An operator's administrator: the operator's data and its staff accounts.
    Admin,
    /// An operator's staff: reads and writes the operator's data.
    Operator,
    /// An operator's staff who only read.
    Readonly,
}

/// What a request needs of its caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    /// Any staff account: reads what its scope shows.
    Read,
    /// Changes an operator's data.
    Write,
    /// Manages an operator's staff accounts and settings.
    OperatorAdmin,
    /// Reads the member's consortium business: obligations, clearing, the ledger feed, the
    /// federation outbox, governance, payment reconciliation.
    MemberRead,
    /// Confirms clearing transfers (money moved between members).
    MemberFinance,
    /// Speaks for the member: governance, ledger submissions, OCPI partners, operators.
    MemberAdmin,
}

impl Need {
    pub const ALL: [Need; 6] =
        [Need::Read, Need::Write, Need::OperatorAdmin, Need::MemberRead, Need::MemberFinance, Need::MemberAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Need::Read => "read",
            Need::Write => "write",
            Need::OperatorAdmin => "operator_admin",
            Need::MemberRead => "member_read",
            Need::MemberFinance => "member_finance",
            Need::MemberAdmin => "member_admin",
        }
    }
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::MemberAdmin, Role::MemberFinance, Role::MemberReadonly, Role::Admin, Role::Operator, Role::Readonly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::MemberAdmin => "member_admin",
            Role::MemberFinance => "member_finance",
            Role::MemberReadonly => "member_readonly",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Readonly => "readonly",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// A role of the member (never tied to one operator) rather than of an operator.
    pub fn is_member_role(self) -> bool {
        matches!(self, Role::MemberAdmin | Role::MemberFinance | Role::MemberReadonly)
    }

    /// The one table of what each role may do.
    pub fn permits(self, need: Need) -> bool {
        use Need::*;
        match self {
            Role::MemberAdmin => true,
            Role::MemberFinance => matches!(need, Read | MemberRead | MemberFinance),
            Role::MemberReadonly => matches!(need, Read | MemberRead),
            Role::Admin => matches!(need, Read | Write | OperatorAdmin),
            Role::Operator => matches!(need, Read | Write),
            Role::Readonly => matches!(need, Read),
        }
    }

    /// Whether everything `self` may do, `other` may do too: a credential minted by `other` may
    /// carry `self`, never more.
    pub fn within(self, other: Role) -> bool {
        Need::ALL.iter().all(|&need| !self.permits(need) || other.permits(need))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account's status: a disabled account cannot log in and its API keys stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    Disabled,
}

impl StaffStatus {
    pub const ALL: [StaffStatus; 2] = [StaffStatus::Active, StaffStatus::Disabled];

    /// The name stored and shown (`active`, `disabled`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StaffStatus::Active => "active",
            StaffStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<StaffStatus> {
        StaffStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// Whose data an account or credential reaches: one operator's, or (`None`) every operator's on the
/// node. Member roles always reach every operator's.
pub type Scope = Option<i64>;

/// Whether a credential scoped `inner` stays inside `outer`.
pub fn scope_within(inner: Scope, outer: Scope) -> bool {
    outer.is_none() || inner == outer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_roles_never_reach_the_members_powers() {
        for role in [Role::Admin, Role::Operator, Role::Readonly] {
            for need in [Need::MemberRead, Need::MemberFinance, Need::MemberAdmin] {
                assert!(!role.permits(need), "{role} may {need:?}");
            }
        }
    }

    #[test]
    fn a_credential_never_exceeds_its_creator() {
        assert!(Role::Readonly.within(Role::Operator));
        assert!(!Role::Operator.within(Role::Readonly));
        assert!(!Role::Admin.within(Role::MemberFinance));
        assert!(Role::MemberReadonly.within(Role::MemberFinance));
        assert!(!Role::MemberFinance.within(Role::Admin));
        for role in Role::ALL {
            assert!(role.within(Role::MemberAdmin));
            assert!(role.within(role));
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn scopes_nest() {
        assert!(scope_within(Some(3), None));
        assert!(scope_within(Some(3), Some(3)));
        assert!(!scope_within(None, Some(3)));
        assert!(!scope_within(Some(4), Some(3)));
    }

    #[test]
    fn a_staff_status_reads_back_from_its_name_only() {
        for status in StaffStatus::ALL {
            assert_eq!(StaffStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(StaffStatus::parse("enabled"), None);
    }
}
