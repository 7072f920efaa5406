//! Every SMS the system sends is a [`Kind`] with a fixed text and short named parameters, so that
//! each kind can be approved once as a provider template (阿里云 and 腾讯云 alike):
//! - a template has fixed text around its variables: none is made of variables only, and no two
//!   variables touch (“不支持组合变量、变量相邻、全变量模板”);
//! - a variable's value has 1 to [`MAX_PARAM`] characters (longer ones are shortened with an
//!   ellipsis); the code of a verification template has 4 to 6 digits;
//! - no 【】 in the text or a value: the provider puts the approved signature in 【】 itself;
//! - a verification template and the notification templates are different template types.
//!
//! The outbox provider renders the whole message as phones show it (`【office】text`), so
//! development and tests read whole messages.

use std::fmt;

/// The most characters a parameter's value may have (both providers' limit for a variable).
pub const MAX_PARAM: usize = 35;

macro_rules! kinds {
    ($($variant:ident => $key:literal, $label:literal, $text:literal;)+) => {
        /// What an SMS says.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $($variant),+ }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            /// The kind's name in the templates file and the queue (`verify_code`).
            pub fn key(self) -> &'static str {
                match self { $(Kind::$variant => $key),+ }
            }

            /// What the message is, in words (the administrators' list).
            pub fn label(self) -> &'static str {
                match self { $(Kind::$variant => $label),+ }
            }

            /// The text to submit for approval, with `${name}` variables.
            pub fn text(self) -> &'static str {
                match self { $(Kind::$variant => $text),+ }
            }
        }
    };
}

kinds! {
    VerifyCode => "verify_code", "验证码",
        "您的验证码为${code}，5分钟内有效，请勿告诉他人。";
    RegistrationCountyPassed => "registration_county_passed", "注册申请初审通过",
        "您单位的注册申请已通过县区外办初审，等待市外办审核。";
    RegistrationApproved => "registration_approved", "注册申请审核通过",
        "您单位的邀请外国人来华信息系统注册申请已审核通过，可登录系统申请《邀请函》。";
    RegistrationReturned => "registration_returned", "注册申请被退回补充",
        "您单位的注册申请被${office}退回补充，请登录系统查看原因，补充后重新提交。";
    ChangeCountyPassed => "change_county_passed", "注册信息变更初审通过",
        "您单位的注册信息变更申请已通过县区外办初审，等待市外办审核。";
    ChangeApproved => "change_approved", "注册信息变更审核通过",
        "您单位的注册信息变更申请已审核通过。";
    ChangeReturned => "change_returned", "注册信息变更被退回",
        "您单位的注册信息变更申请被${office}退回，请登录系统查看原因。";
    MobileChanged => "mobile_changed", "绑定手机已修改",
        "您单位在来华邀请系统绑定的手机号码已于${time}改为${phone}，本号码不再接收验证码。如非本单位操作，请立即联系市外办。";
    GroupDispatched => "group_dispatched", "团组已发件",
        "您单位申报的团组${group}邀请函已发件，请登录系统下载。";
    GroupReturned => "group_returned", "团组退件",
        "您单位申报的团组${group}被${office}退件，请登录系统查看原因，修改后重新提交。";
    GroupMinistryRefused => "group_ministry_refused", "团组外交部不予核实",
        "您单位申报的团组${group}外交部不予核实，已退件，请登录系统查看原因。";
    GroupCancelled => "group_cancelled", "团组邀请已取消",
        "您单位申报的团组${group}的邀请已由市外办取消，请登录系统查看原因。";
    VisitReturned => "visit_returned", "销签登记被退回",
        "您单位团组${group}到访人员${name}的销签登记被${office}退回，请登录系统查看原因。";
    VisitOverdue => "visit_overdue", "销签登记逾期提醒",
        "您单位有${count}名到访人员的销签登记已逾期，请尽快登录系统办理。";
    RatingReplied => "rating_replied", "差评整改答复",
        "您单位对团组${group}的评价已收到市外办的整改答复，请登录系统查看，并可重新评价。";
}

impl Kind {
    pub fn parse(key: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.key() == key)
    }

    /// A verification code (its own template type, and its own signature where configured).
    pub fn is_code(self) -> bool {
        self == Kind::VerifyCode
    }

    /// The names of the variables, in the order they appear in the text (腾讯云's `{1}`, `{2}`…).
    pub fn params(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut rest = self.text();
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            names.push(&after[..end]);
            rest = &after[end + 1..];
        }
        names
    }

    /// The text with numbered variables `{1}`, `{2}`… (腾讯云's template syntax).
    pub fn numbered_text(self) -> String {
        let mut text = self.text().to_string();
        for (i, name) in self.params().iter().enumerate() {
            text = text.replacen(&format!("${{{name}}}"), &format!("{{{}}}", i + 1), 1);
        }
        text
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One SMS: its kind and the value of each of its variables, in the text's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    pub kind: Kind,
    values: Vec<String>,
}

impl Sms {
    /// The message of `kind` with its variables' values by name; each value is cleaned and
    /// shortened to [`MAX_PARAM`] characters. A variable not given is a programming error: it
    /// becomes `-` (never an empty value, which providers refuse).
    pub fn new(kind: Kind, values: &[(&str, &str)]) -> Sms {
        let values = kind
            .params()
            .into_iter()
            .map(|name| {
                let value = values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                debug_assert!(value.is_some(), "{kind}: no value for {name}");
                clean(value.unwrap_or("-"))
            })
            .collect();
        Sms { kind, values }
    }

    /// The variables by name, in the text's order.
    pub fn params(&self) -> Vec<(&'static str, &str)> {
        self.kind
            .params()
            .into_iter()
            .zip(self.values.iter().map(String::as_str))
            .collect()
    }

    /// The values in the text's order (腾讯云's `TemplateParamSet`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `{"name":"value",…}` (阿里云's `TemplateParam`, and how the queue keeps a message).
    pub fn params_json(&self) -> String {
        self.params_object().to_string()
    }

    /// The variables as a JSON object.
    pub fn params_object(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        serde_json::Value::Object(map)
    }

    /// A message kept as [`Sms::params_json`].
    pub fn from_json(kind: Kind, json: &str) -> Option<Sms> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).ok()?;
        let mut values = Vec::new();
        for name in kind.params() {
            values.push(clean(map.get(name)?.as_str()?));
        }
        Some(Sms { kind, values })
    }

    /// The text as the template renders it, without the signature.
    pub fn text(&self) -> String {
        let mut text = self.kind.text().to_string();
        for (name, value) in self.params() {
            text = text.replacen(&format!("${{{name}}}"), value, 1);
        }
        text
    }

    /// The same message with a visitor's name cut to its first character (the administrators'
    /// list of messages shows no visitor's name).
    pub fn names_masked(&self) -> Sms {
        let values = self
            .params()
            .into_iter()
            .map(|(name, value)| match name {
                "name" => format!("{}**", value.chars().next().unwrap_or('*')),
                _ => value.to_string(),
            })
            .collect();
        Sms {
            kind: self.kind,
            values,
        }
    }

    /// The same message with every value replaced by `*` (a code is never stored).
    pub fn redacted(&self) -> Sms {
        Sms {
            kind: self.kind,
            values: self
                .values
                .iter()
                .map(|v| "*".repeat(v.chars().count()))
                .collect(),
        }
    }
}

/// A value as a provider accepts it: one line, no 【】 (they would read as a second signature),
/// at most [`MAX_PARAM`] characters (the last one an ellipsis when shortened), never empty.
pub fn clean(value: &str) -> String {
    let one_line: String = value
        .chars()
        .map(|c| match c {
            '【' => '[',
            '】' => ']',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let words = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    let value = if words.is_empty() {
        "-".to_string()
    } else {
        words
    };
    shorten(&value, MAX_PARAM)
}

/// `value` in at most `max` characters (at least 2), the last an ellipsis when shortened.
pub fn shorten(value: &str, max: usize) -> String {
    let max = max.max(2);
    if value.chars().count() <= max {
        return value.to_string();
    }
    let mut short: String = value.chars().take(max - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_one_a_provider_accepts() {
        let mut keys = std::collections::HashSet::new();
        for &kind in Kind::ALL {
            let text = kind.text();
            assert!(keys.insert(kind.key()), "{kind} twice");
            assert_eq!(Kind::parse(kind.key()), Some(kind));
            assert!(
                !text.contains('【') && !text.contains('】'),
                "{kind}: {text}"
            );
            assert!(!text.contains("}${"), "{kind}: adjacent variables");
            // Fixed text is most of every template.
            let fixed = kind
                .params()
                .iter()
                .fold(text.to_string(), |t, n| t.replace(&format!("${{{n}}}"), ""));
            assert!(fixed.chars().count() >= 10, "{kind}: {fixed}");
            // A whole message (with a 10-character signature) fits 3 SMS segments.
            assert!(text.chars().count() + 12 < 3 * 67, "{kind}");
            for name in kind.params() {
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()),
                    "{kind}: {name}"
                );
            }
            let mut names = kind.params();
            names.dedup();
            assert_eq!(names.len(), kind.params().len(), "{kind}: a variable twice");
        }
        assert_eq!(Kind::VerifyCode.params(), ["code"]);
        assert!(Kind::ALL.iter().filter(|k| k.is_code()).count() == 1);
    }

    #[test]
    fn values_are_cleaned_and_shortened() {
        assert_eq!(clean("  Jane \n Doe "), "Jane Doe");
        assert_eq!(clean("【市外办】"), "[市外办]");
        assert_eq!(clean(""), "-");
        let long = "Maximilian Alexander Konstantin von Hohenzollern-Sigmaringen";
        let short = clean(long);
        assert_eq!(short.chars().count(), MAX_PARAM);
        assert!(short.ends_with('…') && long.starts_with(short.trim_end_matches('…')));
        let han = "测".repeat(36);
        assert_eq!(clean(&han).chars().count(), 35);
        assert_eq!(clean(&"测".repeat(35)), "测".repeat(35));
    }

    #[test]
    fn a_message_renders_stores_and_reads_back() {
        let sms = Sms::new(
            Kind::VisitReturned,
            &[
                ("office", "天宁区外办"),
                ("group", "20260001"),
                ("name", "Jane【Doe】"),
            ],
        );
        assert_eq!(
            sms.text(),
            "您单位团组20260001到访人员Jane[Doe]的销签登记被天宁区外办退回，请登录系统查看原因。"
        );
        assert_eq!(sms.values(), ["20260001", "Jane[Doe]", "天宁区外办"]);
        assert_eq!(
            Sms::from_json(Kind::VisitReturned, &sms.params_json()),
            Some(sms.clone())
        );
        assert_eq!(Sms::from_json(Kind::VisitOverdue, &sms.params_json()), None);
        assert_eq!(
            Kind::VisitReturned.numbered_text(),
            "您单位团组{1}到访人员{2}的销签登记被{3}退回，请登录系统查看原因。"
        );
        let code = Sms::new(Kind::VerifyCode, &[("code", "012345")]);
        assert_eq!(code.redacted().params_json(), r#"{"code":"******"}"#);
    }
}
