//! What the system tells units on each status change: site message texts, and the SMS (a
//! [`Kind`] of `crate::sms::message` with its parameters), kept in one place. Both are written
//! inside the caller's transaction (the SMS to the queue); the SMS is tried once after the
//! commit ([`send`]) and by the SMS job until it goes out.

use super::sms::Queued;
use crate::sms::{Kind, Sms};
use crate::state::AppState;
use crate::store::{messages, units, Actor, Conn, DbResult};

/// One notification: a site message, and an SMS when the event is important.
pub struct Notice {
    pub title: String,
    pub body: String,
    pub sms: Option<Sms>,
    /// The unit caused this change itself: the message is kept as already read.
    pub own_action: bool,
}

pub fn registration_submitted() -> Notice {
    Notice {
        title: "注册申请已提交".into(),
        body: "您的注册申请已提交，属地县区外办将进行初审，初审通过后由市外办审核。审核结果将以短信和站内信通知。".into(),
        sms: None,
        own_action: true,
    }
}

pub fn registration_county_passed() -> Notice {
    Notice {
        title: "注册申请初审通过".into(),
        body: "您的注册申请已通过县区外办初审，已提交市外办审核。".into(),
        own_action: false,
        sms: sms(Kind::RegistrationCountyPassed, &[]),
    }
}

pub fn registration_approved() -> Notice {
    Notice {
        title: "注册申请审核通过".into(),
        body: "您的注册申请已通过市外办审核，现在可以登录系统进行《邀请函》申请。".into(),
        own_action: false,
        sms: sms(Kind::RegistrationApproved, &[]),
    }
}

pub fn registration_returned(by: &str, reason: &str) -> Notice {
    Notice {
        title: "注册申请被退回补充".into(),
        body: format!("{by}退回了您的注册申请，请按以下要求补充材料后重新提交：\n{reason}"),
        own_action: false,
        sms: sms(Kind::RegistrationReturned, &[("office", by)]),
    }
}

pub fn change_submitted() -> Notice {
    Notice {
        title: "注册信息变更已提交".into(),
        body: "您的注册信息变更申请已提交，审核通过前原注册信息继续有效。".into(),
        sms: None,
        own_action: true,
    }
}

pub fn change_county_passed() -> Notice {
    Notice {
        title: "注册信息变更初审通过".into(),
        body: "您的注册信息变更申请已通过县区外办初审，已提交市外办审核。".into(),
        own_action: false,
        sms: sms(Kind::ChangeCountyPassed, &[]),
    }
}

pub fn change_approved() -> Notice {
    Notice {
        title: "注册信息变更审核通过".into(),
        body: "您的注册信息变更申请已审核通过，变更后的信息已生效。".into(),
        own_action: false,
        sms: sms(Kind::ChangeApproved, &[]),
    }
}

pub fn change_returned(by: &str, reason: &str) -> Notice {
    Notice {
        title: "注册信息变更被退回".into(),
        body: format!("{by}退回了您的注册信息变更申请，原注册信息继续有效。原因：\n{reason}"),
        own_action: false,
        sms: sms(Kind::ChangeReturned, &[("office", by)]),
    }
}

/// Writes the site message and queues the SMS inside the transaction (to the unit's bound
/// mobile as it is at this point of the transaction); [`send`] it after the commit.
pub async fn write(
    conn: &mut Conn,
    unit_id: i64,
    sender: &Actor,
    notice: &Notice,
    now: i64,
) -> DbResult<Queued> {
    if notice.own_action {
        messages::record_read(conn, unit_id, sender, &notice.title, &notice.body, now).await?;
    } else {
        messages::send(conn, unit_id, sender, &notice.title, &notice.body, now).await?;
    }
    let Some(sms) = &notice.sms else {
        return Ok(Queued::default());
    };
    match units::get(&mut *conn, unit_id).await? {
        Some(u) if !u.mobile.is_empty() => {
            super::sms::enqueue(conn, Some(unit_id), &u.mobile, sms, now).await
        }
        _ => Ok(Queued::default()),
    }
}

/// After the commit: tries the queued SMS once (the SMS job tries again after a failure).
pub async fn send(state: &AppState, queued: Queued) {
    super::sms::send_queued(state, queued).await
}

fn sms(kind: Kind, values: &[(&str, &str)]) -> Option<Sms> {
    Some(Sms::new(kind, values))
}

/// The unit's bound mobile was changed (written before the new number is bound: the SMS goes
/// to the old number).
pub fn mobile_changed(old: &str, new: &str, when: &str) -> Notice {
    Notice {
        title: "绑定手机已修改".into(),
        body: format!(
            "本单位帐号绑定的手机号码已于{when}由{old}改为{new}。如非本单位操作，请立即修改登录密码并联系市外办。"
        ),
        sms: sms(Kind::MobileChanged, &[("time", when), ("phone", new)]),
        own_action: false,
    }
}

/// The unit account's password was changed by the account itself.
pub fn password_changed(when: &str, ip: &str) -> Notice {
    Notice {
        title: "登录密码已修改".into(),
        body: format!(
            "本单位帐号的登录密码已于{when}修改（地址{ip}），其他已登录的会话已退出。如非本单位操作，请立即通过“忘记密码”重设密码并联系市外办。"
        ),
        sms: None,
        own_action: false,
    }
}

pub fn group_submitted(number: &str) -> Notice {
    Notice {
        title: format!("团组{number}已提交"),
        body: format!("团组{number}已提交，县区外办初审后由市外办审核受理。提交后团组不能修改。"),
        sms: None,
        own_action: true,
    }
}

pub fn group_county_passed(number: &str) -> Notice {
    Notice {
        title: format!("团组{number}初审通过"),
        body: format!("团组{number}已通过县区外办初审，已提交市外办审核受理。"),
        sms: None,
        own_action: false,
    }
}

pub fn group_accepted(number: &str, acceptance_no: &str) -> Notice {
    Notice {
        title: format!("团组{number}已受理"),
        body: format!("团组{number}已由市外办审核受理，受理编号：{acceptance_no}。"),
        sms: None,
        own_action: false,
    }
}

pub fn group_reported(number: &str, verification_no: &str) -> Notice {
    Notice {
        title: format!("团组{number}已上报外交部"),
        body: format!("团组{number}已由市外办上报外交部，核实单号：{verification_no}。"),
        sms: None,
        own_action: false,
    }
}

pub fn group_dispatched(number: &str) -> Notice {
    Notice {
        title: format!("团组{number}已发件"),
        body: format!("团组{number}的邀请函已发件，请在“申报历史查询”中下载。外宾来访结束后，请按时办理销签登记。"),
        sms: sms(Kind::GroupDispatched, &[("group", number)]),
        own_action: false,
    }
}

pub fn group_returned(number: &str, by: &str, reason: &str) -> Notice {
    Notice {
        title: format!("团组{number}退件"),
        body: format!(
            "{by}退回了团组{number}（退件），请按以下要求修改后重新打印、上传并提交：\n{reason}"
        ),
        sms: sms(Kind::GroupReturned, &[("group", number), ("office", by)]),
        own_action: false,
    }
}

pub fn visit_county_passed(name: &str, number: &str) -> Notice {
    Notice {
        title: format!("{name}的销签登记初审通过"),
        body: format!("团组{number}到访人员{name}的销签登记已通过县区外办审核，已提交市外办审核。"),
        sms: None,
        own_action: false,
    }
}

pub fn visit_completed(name: &str, number: &str) -> Notice {
    Notice {
        title: format!("{name}已销签"),
        body: format!("团组{number}到访人员{name}的销签登记已审核完成（已销签）。"),
        sms: None,
        own_action: false,
    }
}

pub fn visit_returned(name: &str, number: &str, by: &str, reason: &str) -> Notice {
    Notice {
        title: format!("{name}的销签登记被退回"),
        body: format!("{by}退回了团组{number}到访人员{name}的销签登记，请按以下要求修改后重新提交：\n{reason}"),
        sms: sms(
            Kind::VisitReturned,
            &[("group", number), ("name", name), ("office", by)],
        ),
        own_action: false,
    }
}

pub fn visit_overdue(visitors: &[String]) -> Notice {
    Notice {
        title: "销签登记逾期提醒".into(),
        body: format!(
            "以下到访人员计划出境已超过规定期限，尚未办理销签登记，请尽快登记：\n{}",
            visitors.join("\n")
        ),
        sms: sms(
            Kind::VisitOverdue,
            &[("count", &visitors.len().to_string())],
        ),
        own_action: false,
    }
}

// ---- 好差评 ----

/// The unit rated a step of its group (its own action: kept as read). A 差评 tells it when the
/// office will answer.
pub fn rating_submitted(number: &str, step: &str, level: &str, due: Option<&str>) -> Notice {
    let then = match due {
        Some(due) => format!("市外办将对您反映的问题进行整改，并于{due}前答复。"),
        None => "感谢您对我们工作的评价。".to_string(),
    };
    Notice {
        title: format!("团组{number}评价已提交"),
        body: format!("您对团组{number}“{step}”环节的评价（{level}）已提交。{then}"),
        sms: None,
        own_action: true,
    }
}

/// The city office closed the follow-up item of the unit's 差评 with its reply.
pub fn rating_replied(number: &str, step: &str, reply: &str) -> Notice {
    Notice {
        title: format!("团组{number}差评整改已办结"),
        body: format!(
            "市外办已办结您对团组{number}“{step}”环节差评的整改。整改情况：\n{reply}\n您可以在团组页面查看，并重新评价。"
        ),
        sms: sms(Kind::RatingReplied, &[("group", number)]),
        own_action: false,
    }
}

/// 【撤回】: the unit's own action, kept as read.
pub fn group_withdrawn(number: &str) -> Notice {
    Notice {
        title: format!("团组{number}已撤回"),
        body: format!("团组{number}已撤回，县区外办不再办理。修改后请重新【打印】、上传盖章扫描件并【提交】。"),
        sms: None,
        own_action: true,
    }
}

/// 外交部不予核实: the group is back with the unit with the Ministry's reason.
pub fn group_ministry_refused(number: &str, reason: &str) -> Notice {
    Notice {
        title: format!("团组{number}退件（外交部不予核实）"),
        body: format!(
            "团组{number}上报外交部后，外交部不予核实，市外办已退件。原因：\n{reason}\n请按要求修改后重新打印、上传并提交；受理编号保留，重新受理时沿用。"
        ),
        sms: sms(Kind::GroupMinistryRefused, &[("group", number)]),
        own_action: false,
    }
}

/// 取消邀请: by the unit itself (kept as read, no SMS) or by the city (site message and SMS).
pub fn group_cancelled(number: &str, by_unit: bool, reason: &str) -> Notice {
    let by = if by_unit { "您单位" } else { "市外办" };
    Notice {
        title: format!("团组{number}邀请已取消"),
        body: format!(
            "团组{number}的邀请已由{by}取消。取消原因：\n{reason}\n该团组的到访人员已记为“邀请已取消”，无需再办理销签登记。"
        ),
        sms: (!by_unit)
            .then(|| Sms::new(Kind::GroupCancelled, &[("group", number)])),
        own_action: by_unit,
    }
}
