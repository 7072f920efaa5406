//! The fields of issue 16 in exports: each exported group's visitors with their visas and
//! employers, and its itinerary, as rows of their own sheets.

use std::collections::BTreeMap;

use super::access::{self, Kind, Seen};
use super::error::Outcome;
use crate::domain::principal::Principal;
use crate::state::AppState;
use crate::store::group_export;

/// A visitor of an exported group.
pub struct VisitorLine {
    pub number: String,
    pub seq: i64,
    pub name: String,
    pub nationality: String,
    pub passport_no: String,
    /// `M（商贸）`; "" for a visitor saved before it was asked.
    pub visa_type: String,
    pub stay_days: Option<i64>,
    pub employer: String,
    pub position: String,
    pub employer_country: String,
    pub employer_city: String,
    pub employer_address: String,
}

/// A row of an exported group's itinerary.
pub struct ItineraryLine {
    pub number: String,
    pub seq: i64,
    pub date: String,
    pub city: String,
    pub activity: String,
    pub host: String,
}

/// The visitors and itineraries of the groups (id, number) an export holds; the caller has
/// listed only groups the principal may see. The visitors are recorded as exported by `p` from
/// the list `list` (its short code, `review.groups`) named `label`.
pub async fn export_details(
    state: &AppState,
    p: &Principal,
    list: &str,
    label: &'static str,
    groups: &[(i64, String)],
) -> Outcome<(Vec<VisitorLine>, Vec<ItineraryLine>)> {
    let numbers: BTreeMap<i64, &str> = groups.iter().map(|(id, n)| (*id, n.as_str())).collect();
    let ids: Vec<i64> = numbers.keys().copied().collect();
    let seen = Seen::new(Kind::Export, label, format!("export:{list}"));
    access::record_groups(state, p, &seen, &ids).await?;
    let lists = super::reference::lists(state).await?;
    let number = |id: i64| numbers.get(&id).copied().unwrap_or_default().to_string();
    let country = |c: &str| match c {
        "" => String::new(),
        c => lists.country_name(c),
    };
    // In the order of the export's rows.
    let order: BTreeMap<i64, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut visitors: Vec<(usize, VisitorLine)> =
        group_export::visitors(state.pool(), &state.keys, &ids)
            .await?
            .into_iter()
            .map(|(gid, seq, v)| {
                (
                    order.get(&gid).copied().unwrap_or(usize::MAX),
                    VisitorLine {
                        number: number(gid),
                        seq,
                        name: v.full_name(),
                        nationality: country(&v.nationality),
                        passport_no: v.passport_no.clone(),
                        visa_type: lists.visa_type_label(&v.visa_type),
                        stay_days: v.stay_days,
                        employer: v.employer.clone(),
                        position: v.position.clone(),
                        employer_country: country(&v.employer_country),
                        employer_city: v.employer_city.clone(),
                        employer_address: v.employer_address.clone(),
                    },
                )
            })
            .collect();
    visitors.sort_by_key(|(i, v)| (*i, v.seq));
    let mut seqs: BTreeMap<i64, i64> = BTreeMap::new();
    let mut itinerary: Vec<(usize, ItineraryLine)> = group_export::itineraries(state.pool(), &ids)
        .await?
        .into_iter()
        .map(|(gid, r)| {
            let seq = seqs.entry(gid).or_insert(0);
            *seq += 1;
            (
                order.get(&gid).copied().unwrap_or(usize::MAX),
                ItineraryLine {
                    number: number(gid),
                    seq: *seq,
                    date: r.date.to_string(),
                    city: r.city,
                    activity: r.activity,
                    host: r.host,
                },
            )
        })
        .collect();
    itinerary.sort_by_key(|(i, r)| (*i, r.seq));
    Ok((
        visitors.into_iter().map(|(_, v)| v).collect(),
        itinerary.into_iter().map(|(_, r)| r).collect(),
    ))
}
