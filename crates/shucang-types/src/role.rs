//! The roles of PRODUCT.md §2.

use std::fmt;

/// What an account may do. An account holds exactly one role, which makes the
/// separation of system, security and audit administration (三权分立)
/// structural: no account can hold two of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A registered user; after real-name verification may buy, hold and gift.
    Collector,
    /// An issuer who submits works with copyright evidence.
    Creator,
    /// Staff who approve or reject works and user content.
    Reviewer,
    /// Staff who handle complaints and warn or restrict users.
    ServiceAgent,
    /// Staff for configuration, drops and technical operations; no audit access.
    SystemAdmin,
    /// Staff for roles, permissions, policies, calendars and licences.
    SecurityAdmin,
    /// Staff who read and export audit records, nothing else.
    AuditAdmin,
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role (expected one of: collector, creator, reviewer, service_agent, system_admin, security_admin, audit_admin)"
)]
pub struct RoleError;

impl Role {
    /// Every role, in the order of PRODUCT.md §2.
    pub const ALL: [Role; 7] = [
        Role::Collector,
        Role::Creator,
        Role::Reviewer,
        Role::ServiceAgent,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    /// The stable code stored in databases and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Collector => "collector",
            Role::Creator => "creator",
            Role::Reviewer => "reviewer",
            Role::ServiceAgent => "service_agent",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    /// Parses a stable code (as produced by [`Role::as_str`]).
    pub fn parse(s: &str) -> Result<Role, RoleError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(RoleError)
    }

    /// Whether this is a platform staff role (everything but collector and creator).
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Collector | Role::Creator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("admin"), Err(RoleError));
        assert_eq!(Role::parse("Reviewer"), Err(RoleError));
    }
}
