//! The texts an administrator edits (Markdown), by key.

/// A text an administrator edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// 注册须知, shown before the registration wizard.
    RegistrationNotice,
    /// 邀请外国人来华须知, confirmed before a group.
    InvitationNotice,
    /// 系统帮助 for the unit clerk.
    Help,
    /// 个人信息处理规则 (issue 18): accepted at registration, told to the visitors by the unit
    /// (confirmed on the group form), public at /rules.
    PersonalInfoRules,
}

impl Text {
    /// Every text, in the order the administrator's page lists them.
    pub const ALL: [Text; 4] = [
        Text::RegistrationNotice,
        Text::InvitationNotice,
        Text::Help,
        Text::PersonalInfoRules,
    ];

    /// The key in the `content` table (and the administrator's page path).
    pub fn key(self) -> &'static str {
        match self {
            Text::RegistrationNotice => "registration_notice",
            Text::InvitationNotice => "invitation_notice",
            Text::Help => "help",
            Text::PersonalInfoRules => "personal_info_rules",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Text::RegistrationNotice => "注册须知",
            Text::InvitationNotice => "邀请外国人来华须知",
            Text::Help => "系统帮助",
            Text::PersonalInfoRules => "个人信息处理规则",
        }
    }

    pub fn parse(key: &str) -> Option<Text> {
        Text::ALL.into_iter().find(|t| t.key() == key)
    }
}
