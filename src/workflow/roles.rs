//! Refusals by role alone, shared by every area (no import of another workflow module, so any
//! may use it).

use super::error::{Error, Outcome};
use crate::domain::principal::{Principal, Role};

/// Refuses everyone but administrators.
pub fn require_admin(p: &Principal) -> Outcome<()> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}
