//! The sheets every export of groups adds: 到访人员 (with the visas applied for, the days per
//! stay and the employers' addresses) and 在华日程.

use super::ctx::Ctx;
use super::error::AppResult;
use super::export::Sheet;
use crate::state::AppState;
use crate::workflow::group_fields::export_details;

/// The visitors' and itineraries' sheets of the groups (id, number) listed in the export `list`
/// (its code) named `label`, by the signed-in `ctx`.
pub async fn detail_sheets(
    state: &AppState,
    ctx: &Ctx,
    list: &str,
    label: &'static str,
    groups: &[(i64, String)],
) -> AppResult<Vec<Sheet>> {
    let (visitors, itinerary) =
        export_details(state, ctx.principal()?, list, label, groups).await?;
    let mut vs = Sheet::new(
        "到访人员",
        &[
            "团组编号",
            "序号",
            "姓名",
            "国籍",
            "护照号码",
            "拟申请签证种类",
            "停留期限（天）",
            "工作单位",
            "职务",
            "工作单位所在国家（地区）",
            "工作单位所在城市",
            "工作单位地址",
        ],
    );
    for v in visitors {
        vs.push(vec![
            v.number.into(),
            v.seq.into(),
            v.name.into(),
            v.nationality.into(),
            v.passport_no.into(),
            v.visa_type.into(),
            v.stay_days.map(|n| n.to_string()).into(),
            v.employer.into(),
            v.position.into(),
            v.employer_country.into(),
            v.employer_city.into(),
            v.employer_address.into(),
        ]);
    }
    let mut its = Sheet::new(
        "在华日程",
        &["团组编号", "序号", "日期", "城市", "活动内容", "接待单位"],
    );
    for r in itinerary {
        its.push(vec![
            r.number.into(),
            r.seq.into(),
            r.date.into(),
            r.city.into(),
            r.activity.into(),
            r.host.into(),
        ]);
    }
    Ok(vec![vs, its])
}
