//! Who acts: the role of an account, the principal built once per request from the signed-in
//! account, and the actor recorded in the audit log and as a message's sender.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Unit,
    County,
    City,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unit => "unit",
            Role::County => "county",
            Role::City => "city",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "unit" => Some(Role::Unit),
            "county" => Some(Role::County),
            "city" => Some(Role::City),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Unit => "邀请单位",
            Role::County => "县区外办",
            Role::City => "市外办",
            Role::Admin => "系统管理员",
        }
    }
    pub fn is_staff(self) -> bool {
        matches!(self, Role::County | Role::City)
    }
    /// The office a reviewer of this role speaks for, as a unit reads it (退件 by …).
    pub fn office(self) -> &'static str {
        match self {
            Role::County => "县区外办",
            _ => "市外办",
        }
    }
}

/// Who did something, for the audit log and message senders.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
    pub ip: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            label: "系统".into(),
            ip: "-".into(),
        }
    }
    /// A signed-in account, named by its display name and login ID.
    pub fn account(user_id: i64, display_name: &str, login_id: &str, ip: &str) -> Actor {
        Actor {
            user_id: Some(user_id),
            label: format!("{display_name}（{login_id}）"),
            ip: ip.into(),
        }
    }
    /// The name a unit is shown as a message's sender: the label without the login ID that
    /// [`Actor::account`] adds for the audit log ("市外办（city）" → "市外办").
    pub fn public_label(label: &str) -> &str {
        match label.strip_suffix('）').and_then(|l| l.rsplit_once('（')) {
            Some((name, id)) if !name.is_empty() && id.chars().all(|c| c.is_ascii_graphic()) => {
                name
            }
            _ => label,
        }
    }
    pub fn anonymous(ip: &str) -> Actor {
        Actor {
            user_id: None,
            label: "匿名用户".into(),
            ip: ip.into(),
        }
    }
}

/// The signed-in account acting on a request, built once per request from its session (and by
/// tests and the API from a token): every workflow function takes one and checks what it may do.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub role: Role,
    /// County staff: the district they review. Nobody else has one.
    pub district_id: Option<i64>,
    /// Unit accounts: their unit. Nobody else has one.
    pub unit_id: Option<i64>,
    /// The name shown to people (a staff member's name, a unit account's contact).
    pub display_name: String,
    /// How the audit log and a message's sender name them, and where they came from.
    pub actor: Actor,
}

impl Principal {
    /// The district that limits what this principal sees of the offices' work: a county's own
    /// (a county account without one sees nothing: district 0 matches no row); `None` for the
    /// city and administrators, who see every district.
    pub fn district_scope(&self) -> Option<i64> {
        (self.role == Role::County).then(|| self.district_id.unwrap_or(0))
    }
    /// The unit of a unit account.
    pub fn own_unit(&self) -> Option<i64> {
        match self.role {
            Role::Unit => self.unit_id,
            _ => None,
        }
    }
    /// The office a reviewer speaks for, as a unit reads it (退件 by …).
    pub fn office(&self) -> &'static str {
        self.role.office()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, district_id: Option<i64>, unit_id: Option<i64>) -> Principal {
        Principal {
            user_id: 1,
            role,
            district_id,
            unit_id,
            display_name: "x".into(),
            actor: Actor::system(),
        }
    }

    #[test]
    fn only_counties_are_limited_to_a_district() {
        assert_eq!(
            principal(Role::County, Some(3), None).district_scope(),
            Some(3)
        );
        assert_eq!(
            principal(Role::County, None, None).district_scope(),
            Some(0)
        );
        assert_eq!(principal(Role::City, Some(3), None).district_scope(), None);
        assert_eq!(principal(Role::Admin, None, None).district_scope(), None);
        assert_eq!(principal(Role::Unit, None, Some(7)).own_unit(), Some(7));
        assert_eq!(principal(Role::City, None, Some(7)).own_unit(), None);
    }
}

#[cfg(test)]
mod public_label_tests {
    use super::Actor;

    #[test]
    fn public_label_drops_the_login_id_only() {
        assert_eq!(Actor::public_label("市外办（city）"), "市外办");
        assert_eq!(
            Actor::public_label("市外办（签证处）（city2）"),
            "市外办（签证处）"
        );
        assert_eq!(Actor::public_label("市外办（签证处）"), "市外办（签证处）");
        assert_eq!(Actor::public_label("系统"), "系统");
    }
}
