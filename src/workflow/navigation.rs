//! What the navigation shows a signed-in principal on every page: a unit's unread messages and
//! the one that pops up, a reviewer's work-queue counts.

use super::error::Outcome;
use crate::domain::group_flow;
use crate::domain::principal::Principal;
use crate::domain::visit::VisitState;
use crate::domain::visit_flow;
use crate::state::AppState;
use crate::store::messages::Message;
use crate::store::queues::{self, QueueCounts};

/// A unit's unread count and the unread message due to pop up now, if any.
pub async fn reminder(state: &AppState, p: &Principal) -> Outcome<(i64, Option<Message>)> {
    super::messages::reminder(state, p).await
}

/// The post-visit registrations' state that waits for a principal.
pub fn visit_work_state(p: &Principal) -> Option<VisitState> {
    visit_flow::work_state(p.role)
}

/// The counts of a reviewer's work queues, with the city's open follow-ups of 差评 (zeros for
/// others).
pub async fn queues(state: &AppState, p: &Principal) -> Outcome<QueueCounts> {
    if !p.role.is_staff() {
        return Ok(QueueCounts::default());
    }
    Ok(queues::counts(
        state.pool(),
        super::registration::review_scope(p).map(|(state, _)| state),
        &group_flow::work_states(p.role),
        visit_work_state(p),
        p.district_scope(),
        super::ratings::sees_followups(p),
    )
    .await?)
}
