//! What every page reads besides its own data: the site's names and phone, the reference lists
//! of the forms (cached per instance), and the office's time limit.

use std::sync::Arc;

use chrono::NaiveDate;

use super::error::Outcome;
use crate::domain::time_limit;
use crate::seed::Site;
use crate::state::AppState;
use crate::store::reference;
use crate::store::refs::{self, Lists};

/// City, office and system names and the office phone, as the settings say now (read per
/// use, so that every instance shows an administrator's change at once).
pub async fn site(state: &AppState) -> Outcome<Site> {
    Ok(crate::seed::load_site(state.pool()).await?)
}

/// Countries, missions and code lists, read again only when an administrator has changed
/// reference data (on any instance): one lookup of the version instead of six queries.
pub async fn lists(state: &AppState) -> Outcome<Lists> {
    let version = refs::version(state.pool()).await?;
    if let Ok(cache) = state.ref_cache.lock() {
        if let Some((v, lists)) = cache.as_ref() {
            if *v == version {
                return Ok(lists.as_ref().clone());
            }
        }
    }
    let lists = refs::lists(state.pool()).await?;
    if let Ok(mut cache) = state.ref_cache.lock() {
        *cache = Some((version, Arc::new(lists.clone())));
    }
    Ok(lists)
}

/// The office's time limit in working days and the holidays, from the settings (the queues, the
/// record page and the statistics count working days with them).
pub async fn limits(state: &AppState) -> Outcome<(i64, Vec<NaiveDate>)> {
    let settings = reference::settings(state.pool(), &time_limit::LIMIT_SETTINGS).await?;
    Ok(time_limit::limits_from(&settings))
}
