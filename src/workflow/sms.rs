//! Sending SMS through the queue (migration 0025).
//!
//! A notification is queued in the transaction of the change it tells of ([`enqueue`]); after
//! the commit the request tries it once ([`send_queued`]), and the SMS job ([`run`]) sends what
//! is due: a message not sent yet, or one whose last attempt failed and whose backoff has
//! passed. Every attempt runs under a claim taken by one conditional UPDATE, so a message goes
//! out at most once across instances; a claim that outlived its lease (the instance stopped
//! mid-send) is marked unknown and not sent again by itself. A message that failed for good,
//! or is unknown, is audited and listed for administrators, who may send it again.
//!
//! Verification codes are sent at once by the request that asks for one (the person waits);
//! they are recorded too, with the code masked, and never sent again.

use super::roles::require_admin;
use crate::domain::audit::ObjectType;
use crate::domain::principal::Principal;
use crate::sms::{Kind, Retry, Sent, Sms, SmsError};
use crate::state::AppState;
use crate::store::sms_queue::{self, Entry, FAILED, PENDING, SENT, UNKNOWN};
use crate::store::{audit, Actor, Conn, DbResult};
use crate::workflow::error::{Error, Outcome};

/// Attempts of a notification before it is failed for good.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long an attempt may take before its claim is considered lost.
pub const LEASE: i64 = 120;
/// How long the list keeps a message (the texts name visitors and groups; the audit log keeps
/// failures and resends).
pub const KEEP: i64 = 180 * 86_400;
/// Messages one run of the job sends at most.
const BATCH: i64 = 200;

/// Seconds before the attempt after `attempts` failed ones: 1, 2, 4 … minutes, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 7) - 1;
    (60 * (1_i64 << exp)).min(3600)
}

/// A notification queued in a transaction, to try once after the commit.
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "send_queued after the commit"]
pub struct Queued(Option<i64>);

/// Queues `sms` to `mobile` (for unit `unit_id`) inside the caller's transaction.
pub async fn enqueue(
    conn: &mut Conn,
    unit_id: Option<i64>,
    mobile: &str,
    sms: &Sms,
    now: i64,
) -> DbResult<Queued> {
    let id = sms_queue::enqueue(
        conn,
        sms.kind.key(),
        mobile,
        &sms.params_json(),
        unit_id,
        now,
    )
    .await?;
    Ok(Queued(Some(id)))
}

/// How long the request that queued a message waits for its first attempt; a slower provider's
/// answer is awaited in the background.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// After the commit: tries a queued message once at once, in a task of its own that the request
/// waits for at most [`WAIT`] (a slow provider does not hold the clerk's page; the claim keeps
/// the job from sending it meanwhile). A failure is recorded on the message (the job tries
/// again); nothing is returned, the change it tells of stands.
pub async fn send_queued(state: &AppState, queued: Queued) {
    if let Some(id) = queued.0 {
        let state = state.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = attempt(&state, id).await {
                tracing::error!(sms = id, "sending a queued SMS: {e:#}");
            }
        });
        if tokio::time::timeout(WAIT, task).await.is_err() {
            tracing::info!(
                sms = id,
                "the SMS provider is slow: its answer is awaited in the background"
            );
        }
    }
}

/// What one run of the job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ran {
    pub sent: usize,
    /// Failed this time (tried again later, or failed for good).
    pub failed: usize,
    /// Claims that outlived their lease: marked unknown.
    pub unknown: usize,
}

/// One run of the SMS job.
pub async fn run(state: &AppState) -> anyhow::Result<Ran> {
    let now = state.now();
    let mut ran = Ran::default();
    let lost = sms_queue::expire_leases(
        state.pool(),
        now,
        "发送过程中断（实例停止或超时），无法确认是否已发出；为免重复，不再自动发送",
    )
    .await?;
    for e in &lost {
        ran.unknown += 1;
        audit_outcome(state, e, "sms.unknown", &e.last_error).await;
    }
    for id in sms_queue::due(state.pool(), now, BATCH).await? {
        match attempt(state, id).await? {
            Some(true) => ran.sent += 1,
            Some(false) => ran.failed += 1,
            None => {}
        }
    }
    Ok(ran)
}

/// Removes the messages older than [`KEEP`] that are done with (the hourly housekeeping).
pub async fn purge(state: &AppState) -> DbResult<u64> {
    sms_queue::purge(state.pool(), state.now() - KEEP).await
}

/// One attempt of a queued message: `None` when it was not ours to send (sent, claimed
/// elsewhere, not due), else whether it was sent.
async fn attempt(state: &AppState, id: i64) -> anyhow::Result<Option<bool>> {
    let now = state.now();
    let token = crate::security::random_token();
    let Some(entry) = sms_queue::claim(state.pool(), id, &token, now, now + LEASE).await? else {
        return Ok(None);
    };
    let message = Kind::parse(&entry.kind).and_then(|k| Sms::from_json(k, &entry.params));
    let result = match &message {
        Some(sms) => deliver(state, &entry.mobile, sms).await,
        None => Err(SmsError::new(
            Retry::Never,
            format!("无法读取的短信（{}：{}）", entry.kind, entry.params),
        )),
    };
    let retry = entry.attempts < MAX_ATTEMPTS;
    let (new_state, recorded) = settle(
        state,
        id,
        &token,
        &entry.kind,
        entry.attempts,
        &result,
        retry,
    )
    .await?;
    if !recorded {
        tracing::warn!(
            sms = id,
            "an SMS attempt's claim was taken over before its outcome"
        );
    }
    if let Err(e) = &result {
        tracing::warn!(
            sms = id,
            attempts = entry.attempts,
            state = new_state,
            "SMS not sent: {e}"
        );
        if new_state != PENDING {
            let action = match new_state {
                UNKNOWN => "sms.unknown",
                _ => "sms.failed",
            };
            audit_outcome(state, &entry, action, &e.message).await;
        }
    }
    Ok(Some(result.is_ok()))
}

/// Records the outcome of an attempt made under `token` and counts it: sent; pending again after
/// the backoff when the provider may take it later and `retry`; unknown; or failed. The state
/// recorded, and whether the claim was still ours.
async fn settle(
    state: &AppState,
    id: i64,
    token: &str,
    kind: &str,
    attempts: i64,
    result: &Result<Sent, SmsError>,
    retry: bool,
) -> DbResult<(&'static str, bool)> {
    let done = state.now();
    let (new_state, next_at, reference, error) = match result {
        Ok(sent) => (SENT, done, sent.reference.as_str(), ""),
        Err(e) => match e.retry {
            Retry::Later if retry => (PENDING, done + backoff(attempts), "", e.message.as_str()),
            Retry::Unknown => (UNKNOWN, done, "", e.message.as_str()),
            _ => (FAILED, done, "", e.message.as_str()),
        },
    };
    let recorded = sms_queue::finish(
        state.pool(),
        id,
        token,
        new_state,
        done,
        next_at,
        reference,
        error,
    )
    .await?;
    state.metrics.counter(
        "laihua_sms_total",
        &[("kind", kind), ("outcome", new_state)],
        1,
    );
    Ok((new_state, recorded))
}

/// Sends through the provider; the outbox shows the office's name as the signature.
async fn deliver(state: &AppState, mobile: &str, sms: &Sms) -> Result<Sent, SmsError> {
    let office = match state.sms.shows_office() {
        true => super::reference::site(state)
            .await
            .map(|s| s.office_name)
            .map_err(|e| SmsError::new(Retry::Later, format!("读取市外办名称失败：{e:#}")))?,
        // The providers put their approved signature instead.
        false => String::new(),
    };
    state.sms.send(mobile, sms, &office).await
}

/// A notification that failed for good, or whose outcome is unknown: an audit entry.
async fn audit_outcome(state: &AppState, e: &Entry, action: &str, why: &str) {
    let kind = Kind::parse(&e.kind).map(|k| k.label()).unwrap_or(&e.kind);
    let detail = format!(
        "{}（{}，第{}次）：{why}",
        kind,
        crate::domain::Mobile::mask(&e.mobile),
        e.attempts
    );
    let written = async {
        let mut conn = state.pool().acquire().await?;
        audit::write(
            &mut conn,
            &Actor::system(),
            state.now(),
            action,
            ObjectType::Sms,
            &e.id.to_string(),
            &detail,
        )
        .await
    };
    if let Err(err) = written.await {
        tracing::error!(sms = e.id, "auditing an SMS outcome: {err}");
    }
}

/// Sends a verification code at once and records it (the code masked). Never retried: the
/// person asks again.
pub async fn send_code(state: &AppState, mobile: &str, sms: &Sms) -> Result<(), SmsError> {
    let now = state.now();
    let token = crate::security::random_token();
    let stored = sms_queue::insert_claimed(
        state.pool(),
        sms.kind.key(),
        mobile,
        &sms.redacted().params_json(),
        now,
        &token,
        now + LEASE,
    )
    .await;
    let id = stored.map_err(|e| SmsError::new(Retry::Later, format!("记录短信失败：{e}")))?;
    let result = deliver(state, mobile, sms).await;
    if let Err(e) = settle(state, id, &token, sms.kind.key(), 1, &result, false).await {
        tracing::error!(sms = id, "recording a code's outcome: {e}");
    }
    result.map(|_| ())
}

// ---- administrators ----

/// The administrators' list: which messages to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    All,
    /// Failed for good or unknown: the ones needing a look.
    Problems,
    Waiting,
}

impl Show {
    pub fn parse(s: &str) -> Show {
        match s {
            "problems" => Show::Problems,
            "waiting" => Show::Waiting,
            _ => Show::All,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Problems => "problems",
            Show::Waiting => "waiting",
        }
    }

    fn states(self) -> &'static [&'static str] {
        match self {
            Show::All => &[],
            Show::Problems => &[FAILED, UNKNOWN],
            Show::Waiting => &[PENDING, sms_queue::SENDING],
        }
    }
}

/// One message as administrators see it.
#[derive(Clone, Debug)]
pub struct MessageView {
    pub e: Entry,
    pub mobile_masked: String,
    pub kind_label: String,
    /// The text (a code's value and a visitor's name masked).
    pub text: String,
}

impl MessageView {
    pub fn state_label(&self) -> &'static str {
        state_label(&self.e.state)
    }

    pub fn created_text(&self) -> String {
        crate::clock::fmt_ts(self.e.created_at)
    }

    pub fn sent_text(&self) -> String {
        self.e.sent_at.map(crate::clock::fmt_ts).unwrap_or_default()
    }

    pub fn next_text(&self) -> String {
        match self.e.state == PENDING {
            true => crate::clock::fmt_ts(self.e.next_at),
            false => String::new(),
        }
    }

    /// An administrator may send it again.
    pub fn resendable(&self) -> bool {
        (self.e.state == FAILED || self.e.state == UNKNOWN) && self.e.kind != Kind::VerifyCode.key()
    }
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        PENDING => "待发送",
        sms_queue::SENDING => "发送中",
        SENT => "已发送",
        FAILED => "发送失败",
        UNKNOWN => "结果不明",
        _ => "未知状态",
    }
}

/// A page of the SMS list, and the counts by state.
pub struct Listing {
    pub messages: Vec<MessageView>,
    pub total: i64,
    pub counts: Vec<(&'static str, i64)>,
    pub provider: &'static str,
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    show: Show,
    limit: i64,
    offset: i64,
) -> Outcome<Listing> {
    require_admin(p)?;
    let rows = sms_queue::list(state.pool(), show.states(), limit, offset).await?;
    let counts = sms_queue::counts(state.pool()).await?;
    Ok(Listing {
        messages: rows.into_iter().map(view).collect(),
        total: counts.sum(show.states()),
        counts: sms_queue::STATES
            .iter()
            .map(|s| (state_label(s), counts.of(s)))
            .collect(),
        provider: state.sms.name(),
    })
}

/// How many messages need an administrator's look (failed for good or unknown).
pub async fn problems(state: &AppState) -> Outcome<i64> {
    let counts = sms_queue::counts(state.pool()).await?;
    Ok(counts.sum(Show::Problems.states()))
}

fn view(e: Entry) -> MessageView {
    let kind = Kind::parse(&e.kind);
    let text = kind
        .and_then(|k| Sms::from_json(k, &e.params))
        .map(|s| s.names_masked().text())
        .unwrap_or_else(|| e.params.clone());
    MessageView {
        mobile_masked: crate::domain::Mobile::mask(&e.mobile),
        kind_label: kind.map(|k| k.label()).unwrap_or("未知").to_string(),
        text,
        e,
    }
}

/// 【重新发送】 a failed or unknown notification: back in the queue and tried at once.
pub async fn resend(state: &AppState, p: &Principal, id: i64) -> Outcome<()> {
    require_admin(p)?;
    let Some(entry) = sms_queue::get(state.pool(), id).await? else {
        return Err(Error::NotFound);
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !sms_queue::requeue(tx.conn(), id, now).await? {
        return Err(Error::Stale(
            "该短信已不是“发送失败”或“结果不明”状态（验证码不能重新发送），请刷新页面".into(),
        ));
    }
    let kind = Kind::parse(&entry.kind)
        .map(|k| k.label())
        .unwrap_or("未知");
    audit::write(
        tx.conn(),
        &p.actor,
        now,
        "sms.resend",
        ObjectType::Sms,
        &id.to_string(),
        &format!(
            "{kind}（{}，原状态：{}）",
            crate::domain::Mobile::mask(&entry.mobile),
            state_label(&entry.state)
        ),
    )
    .await?;
    tx.commit().await?;
    send_queued(state, Queued(Some(id))).await;
    Ok(())
}
