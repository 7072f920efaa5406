//! Inviting units: registration, its review by county and city, and change requests.

use super::error::Outcome;
use crate::state::AppState;
use crate::store::units::{self, Unit};

/// The unit of a unit account (read once per request for the page and the handler).
pub async fn own_unit(state: &AppState, unit_id: i64) -> Outcome<Option<Unit>> {
    Ok(units::get(state.pool(), unit_id).await?)
}
