//! Invitation groups (团组): the form's rules and entry types. The life of a group (its states,
//! who may do what when, its numbers) is in [`super::group_flow`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::fields::{required, FieldErrors};
use super::group_fields::{
    planned_days, validate_itinerary, validate_size, validate_stay, ItineraryForm, ItineraryRow,
};

/// At most this many visitors per group (manual 2.3.3).
pub const MAX_VISITORS: usize = 5;
/// The manual's sentence when a sixth visitor is added.
pub const TOO_MANY_VISITORS: &str = "邀请函人员不能超过5人，如邀请人数超过5人，请另建团组邀请";

pub use super::group_flow::GroupState;

/// Serialized as its code: the data hash of a printed form depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryType {
    #[serde(rename = "single")]
    Single,
    #[serde(rename = "half_year")]
    HalfYear,
    #[serde(rename = "one_year")]
    OneYear,
}

impl EntryType {
    pub const ALL: [EntryType; 3] = [EntryType::Single, EntryType::HalfYear, EntryType::OneYear];
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Single => "single",
            EntryType::HalfYear => "half_year",
            EntryType::OneYear => "one_year",
        }
    }
    pub fn parse(s: &str) -> Option<EntryType> {
        EntryType::ALL.into_iter().find(|e| e.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            EntryType::Single => "一次（3个月有效）",
            EntryType::HalfYear => "半年多次",
            EntryType::OneYear => "一年多次",
        }
    }
    pub fn multiple(self) -> bool {
        self != EntryType::Single
    }
}

/// Grounds for a multiple-entry invitation (manual 2.3.2). Serialized as its code (see
/// [`GroupData::ground`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ground {
    #[serde(rename = "legal_rep")]
    LegalRepInvesting,
    #[serde(rename = "entries_5")]
    Entries5,
    #[serde(rename = "entries_10")]
    Entries10,
}

impl Ground {
    pub const ALL: [Ground; 3] = [
        Ground::LegalRepInvesting,
        Ground::Entries5,
        Ground::Entries10,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::LegalRepInvesting => "legal_rep",
            Ground::Entries5 => "entries_5",
            Ground::Entries10 => "entries_10",
        }
    }
    pub fn parse(s: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.as_str() == s)
    }
    /// The code of an optional ground: "" for none (as the database and the form have it).
    pub fn code(g: Option<Ground>) -> &'static str {
        g.map_or("", Ground::as_str)
    }
    /// Reads [`Ground::code`] back: `Some(None)` for "", `None` for an unknown code.
    pub fn parse_code(s: &str) -> Option<Option<Ground>> {
        if s.is_empty() {
            Some(None)
        } else {
            Ground::parse(s).map(Some)
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Ground::LegalRepInvesting => "在苏投资企业的法定代表人",
            Ground::Entries5 => "上一年度出入境中国5次及以上",
            Ground::Entries10 => "上一年度出入境中国10次及以上",
        }
    }
    /// Whether this ground supports the entry type.
    pub fn allows(self, entry: EntryType) -> bool {
        match entry {
            EntryType::Single => false,
            EntryType::HalfYear => true,
            EntryType::OneYear => matches!(self, Ground::LegalRepInvesting | Ground::Entries10),
        }
    }
}

/// A group's own attachments (the visitors' scans and the stamped form are kept apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attachment {
    /// 经办人身份证复印件: always required.
    ClerkId,
    /// 多次入境证明材料: required for a multiple-entry invitation.
    MultiEntryProof,
    /// 其他证明材料: optional.
    Other,
}

impl Attachment {
    pub const ALL: [Attachment; 3] = [
        Attachment::ClerkId,
        Attachment::MultiEntryProof,
        Attachment::Other,
    ];
    /// Its type code (in the database and the upload's address).
    pub fn code(self) -> &'static str {
        match self {
            Attachment::ClerkId => "clerk_id",
            Attachment::MultiEntryProof => "multi_entry_proof",
            Attachment::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Attachment> {
        Attachment::ALL.into_iter().find(|a| a.code() == s)
    }
    /// Its name on the form.
    pub fn name(self) -> &'static str {
        match self {
            Attachment::ClerkId => "经办人身份证复印件（加盖单位公章）",
            Attachment::MultiEntryProof => "多次入境证明材料（出入境记录页等）",
            Attachment::Other => "其他证明材料",
        }
    }
    /// Whether a group of this entry type needs it before 【提交】 (`None`: not chosen yet).
    pub fn required(self, entry_type: Option<EntryType>) -> bool {
        match self {
            Attachment::ClerkId => true,
            Attachment::MultiEntryProof => entry_type.is_some_and(EntryType::multiple),
            Attachment::Other => false,
        }
    }
    /// Whether the form offers it: the multiple-entry proof only when needed or uploaded.
    pub fn offered(self, entry_type: Option<EntryType>, uploaded: bool) -> bool {
        self != Attachment::MultiEntryProof || uploaded || self.required(entry_type)
    }
}

/// The materials a group needs, as (material, when it is needed), listed on the notice page
/// and on the form before the first 【保存】 (names as on the form's upload slots).
pub fn materials() -> Vec<(&'static str, &'static str)> {
    vec![
        ("每位到访人员的护照首页", "必选"),
        ("每位到访人员曾来华的签证页及出入境章", "可选（曾来华的）"),
        (Attachment::ClerkId.name(), "必选"),
        (Attachment::MultiEntryProof.name(), "申请多次入境时必选"),
        (Attachment::Other.name(), "可选"),
        (
            "盖章签字的申请表扫描件",
            "必选：【保存】后【打印】申请表，由单位盖章、负责人签字后扫描上传",
        ),
    ]
}

/// Which scan of a visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisitorScan {
    /// 护照首页 (required).
    Passport,
    /// 曾来华的签证页及出入境章 (optional).
    Visa,
}

/// Where an upload of a group goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadSlot {
    Attachment(Attachment),
    /// The stamped and signed print of the application form.
    Scan,
    /// A scan of the visitor with this id.
    Visitor(VisitorScan, i64),
}

impl UploadSlot {
    /// `clerk_id`, `multi_entry_proof`, `other`, `scan`, `passport-<visitor id>`,
    /// `visa-<visitor id>`.
    pub fn parse(s: &str) -> Option<UploadSlot> {
        if s == "scan" {
            return Some(UploadSlot::Scan);
        }
        if let Some(a) = Attachment::parse(s) {
            return Some(UploadSlot::Attachment(a));
        }
        let (kind, id) = s.split_once('-')?;
        let scan = match kind {
            "passport" => VisitorScan::Passport,
            "visa" => VisitorScan::Visa,
            _ => return None,
        };
        Some(UploadSlot::Visitor(scan, id.parse().ok()?))
    }
    /// The code [`UploadSlot::parse`] reads (the form marks the slot of a refused upload).
    pub fn code(self) -> String {
        match self {
            UploadSlot::Attachment(a) => a.code().to_string(),
            UploadSlot::Scan => "scan".into(),
            UploadSlot::Visitor(VisitorScan::Passport, id) => format!("passport-{id}"),
            UploadSlot::Visitor(VisitorScan::Visa, id) => format!("visa-{id}"),
        }
    }
    /// What was uploaded, as the audit log names it.
    pub fn label(self) -> &'static str {
        match self {
            UploadSlot::Visitor(VisitorScan::Visa, _) => "曾来华签证页",
            UploadSlot::Visitor(VisitorScan::Passport, _) => "护照首页",
            UploadSlot::Scan => "盖章签字的申请表扫描件",
            UploadSlot::Attachment(Attachment::ClerkId) => "经办人身份证复印件",
            UploadSlot::Attachment(Attachment::MultiEntryProof) => "多次入境证明材料",
            UploadSlot::Attachment(Attachment::Other) => "其他证明材料",
        }
    }
}

/// What the group form accepts, from the reference data in force.
pub struct Choices<'a> {
    pub purposes: &'a [&'a str],
    pub cost_bearers: &'a [&'a str],
    /// (mission id, host country alpha-3)
    pub missions: &'a [(i64, &'a str)],
    pub nationalities: &'a [&'a str],
    /// Codes of the visa types in force.
    pub visa_types: &'a [&'a str],
    /// Countries (alpha3) an employer may be in.
    pub countries: &'a [&'a str],
}

/// What a visitor's checks need of the group: its dates and entry type as typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trip {
    pub arrival: Option<NaiveDate>,
    pub departure: Option<NaiveDate>,
    pub entry: Option<EntryType>,
}

impl Trip {
    pub fn of(form: &GroupForm) -> Trip {
        Trip {
            arrival: parse_date(&form.arrival),
            departure: parse_date(&form.departure),
            entry: EntryType::parse(form.entry_type.trim()),
        }
    }
    /// Days from arrival to departure, both counted, when both are valid and in order.
    pub fn planned_days(&self) -> Option<i64> {
        match (self.arrival, self.departure) {
            (Some(a), Some(d)) if d >= a => Some(planned_days(a, d)),
            _ => None,
        }
    }
}

/// The group as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub arrival: String,
    #[serde(default)]
    pub departure: String,
    #[serde(default)]
    pub places: String,
    #[serde(default)]
    pub cost_bearer: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub mission: String,
    #[serde(default)]
    pub entry_type: String,
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub remarks: String,
    /// 团组人数: the whole delegation.
    #[serde(default)]
    pub size: String,
    /// 在华日程 as typed (blank rows included).
    #[serde(default)]
    pub itinerary: Vec<ItineraryForm>,
    /// "1" when the unit confirms it told its visitors the rules on personal information
    /// (个人信息处理规则); a group is saved only with it.
    #[serde(default)]
    pub informed: String,
}

/// A visitor as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VisitorForm {
    #[serde(default)]
    pub surname: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub passport_no: String,
    #[serde(default)]
    pub passport_expiry: String,
    #[serde(default)]
    pub employer: String,
    #[serde(default)]
    pub position: String,
    /// 拟申请签证种类 (a `visa_type` code).
    #[serde(default)]
    pub visa_type: String,
    /// 停留期限（天）.
    #[serde(default)]
    pub stay_days: String,
    #[serde(default)]
    pub employer_country: String,
    #[serde(default)]
    pub employer_city: String,
    #[serde(default)]
    pub employer_address: String,
    /// The passport's machine-readable zone as pasted, not yet read into the fields above
    /// (emptied once read; never saved).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mrz: String,
}

impl VisitorForm {
    /// Whether nothing was typed (the visa type alone may be a default, not typed).
    pub fn is_blank(&self) -> bool {
        [
            &self.surname,
            &self.given_name,
            &self.sex,
            &self.birth_date,
            &self.nationality,
            &self.passport_no,
            &self.passport_expiry,
            &self.employer,
            &self.position,
            &self.stay_days,
            &self.employer_country,
            &self.employer_city,
            &self.employer_address,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// A validated group (the version whose hash the printed form carries).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupData {
    pub name: String,
    pub purpose: String,
    pub arrival: NaiveDate,
    pub departure: NaiveDate,
    pub places: String,
    pub cost_bearer: String,
    pub mission_id: i64,
    pub entry_type: EntryType,
    /// None for a single entry; serialized as "" then (as the hashes of printed forms have it).
    #[serde(with = "ground_code")]
    pub ground: Option<Ground>,
    pub contact_name: String,
    pub contact_phone: String,
    pub remarks: String,
    /// 团组人数; `None` for a group saved before it was asked (and then left out of the hash,
    /// so that the printed versions of old groups keep theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// 在华日程, sorted by date; empty for a group saved before it was asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub itinerary: Vec<ItineraryRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct VisitorData {
    pub surname: String,
    pub given_name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub nationality: String,
    pub passport_no: String,
    pub passport_expiry: NaiveDate,
    pub employer: String,
    pub position: String,
    /// The fields below are blank (and left out of the hash) for visitors saved before they
    /// were asked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub visa_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stay_days: Option<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub employer_country: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub employer_city: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub employer_address: String,
}

/// An optional ground as its code, "" for none.
mod ground_code {
    use super::Ground;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(g: &Option<Ground>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Ground::code(*g))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ground>, D::Error> {
        let code = String::deserialize(d)?;
        Ground::parse_code(&code).ok_or_else(|| D::Error::custom(format!("unknown ground {code}")))
    }
}

pub use super::fields::parse_date;

/// A passport number: 5 to 20 letters and digits (upper-cased).
pub fn parse_passport(s: &str) -> Option<String> {
    let p: String = s.trim().to_uppercase();
    ((5..=20).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())).then_some(p)
}

impl GroupForm {
    pub fn validate(&self, choices: &Choices, today: NaiveDate) -> Result<GroupData, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = required(&mut e, "name", &self.name, "团组名称", 100);
        if !choices.purposes.contains(&self.purpose.trim()) {
            e.add("purpose", "请选择来华事由");
        }
        let arrival = parse_date(&self.arrival);
        let departure = parse_date(&self.departure);
        match arrival {
            None => e.add("arrival", "请填写计划入境日期（格式：2026-01-31）"),
            Some(a) if a < today => e.add("arrival", "计划入境日期不能早于今天"),
            _ => {}
        }
        match (arrival, departure) {
            (_, None) => e.add("departure", "请填写计划出境日期（格式：2026-01-31）"),
            (Some(a), Some(d)) if d < a => e.add("departure", "计划出境日期不能早于计划入境日期"),
            _ => {}
        }
        let places = required(&mut e, "places", &self.places, "访问地点", 200);
        if !choices.cost_bearers.contains(&self.cost_bearer.trim()) {
            e.add("cost_bearer", "请选择费用承担方式");
        }
        let country = self.country.trim();
        if !choices.missions.iter().any(|(_, c)| *c == country) {
            e.add("country", "请从列表中选择签证申办国家（地区）");
        }
        let mission_id = self.mission.trim().parse::<i64>().ok();
        let mission_ok = mission_id.is_some_and(|id| {
            choices
                .missions
                .iter()
                .any(|(m, c)| *m == id && *c == country)
        });
        if !mission_ok && !e.has("country") {
            e.add(
                "mission",
                "请选择外宾办理签证的使领馆（须从列表中选择，并与所选国家（地区）一致）",
            );
        }
        let entry = EntryType::parse(self.entry_type.trim());
        let ground = Ground::parse(self.ground.trim());
        match entry {
            None => e.add("entry_type", "请选择入境次数"),
            Some(t) if t.multiple() => match ground {
                None => e.add("ground", "申请多次入境须选择依据"),
                Some(g) if !g.allows(t) => e.add(
                    "ground",
                    "一年多次须为在苏投资企业的法定代表人或上一年度出入境中国10次及以上",
                ),
                _ => {}
            },
            _ => {}
        }
        let contact_name = required(&mut e, "contact_name", &self.contact_name, "联系人", 50);
        let contact_phone = required(&mut e, "contact_phone", &self.contact_phone, "联系电话", 30);
        if !e.has("contact_phone") && !super::registration::valid_phone(&contact_phone) {
            e.add("contact_phone", "请输入正确的联系电话");
        }
        let remarks = self.remarks.trim().to_string();
        if remarks.chars().count() > 500 {
            e.add("remarks", "备注不能超过500个字符");
        }
        // The visitors listed are counted against the size by the caller.
        let size = validate_size(&self.size, 0, &mut e);
        let in_order = |d: Option<NaiveDate>| match (arrival, departure) {
            (Some(a), Some(x)) if x < a => None,
            _ => d,
        };
        let itinerary = validate_itinerary(
            &self.itinerary,
            in_order(arrival),
            in_order(departure),
            &mut e,
        );
        if !e.is_empty() {
            return Err(e);
        }
        let (Some(arrival), Some(departure), Some(entry), Some(mission_id)) =
            (arrival, departure, entry, mission_id)
        else {
            return Err(e);
        };
        Ok(GroupData {
            name,
            purpose: self.purpose.trim().to_string(),
            arrival,
            departure,
            places,
            cost_bearer: self.cost_bearer.trim().to_string(),
            mission_id,
            entry_type: entry,
            ground: ground.filter(|_| entry.multiple()),
            contact_name,
            contact_phone,
            remarks,
            size,
            itinerary,
        })
    }
}

impl VisitorForm {
    /// Checks one visitor; field names are prefixed `v{index}_`.
    pub fn validate(
        &self,
        index: usize,
        choices: &Choices,
        trip: &Trip,
        today: NaiveDate,
        e: &mut FieldErrors,
    ) -> Option<VisitorData> {
        let departure = trip.departure;
        let f = |name: &str| format!("v{index}_{name}");
        let before = e.clone();
        let surname = self.surname.trim().to_string();
        if surname.chars().count() > 50 {
            e.add(&f("surname"), "姓不能超过50个字符");
        }
        let given_name = required(e, &f("given_name"), &self.given_name, "名", 80);
        if !matches!(self.sex.as_str(), "M" | "F") {
            e.add(&f("sex"), "请选择性别");
        }
        let birth = parse_date(&self.birth_date);
        match birth {
            None => e.add(&f("birth_date"), "请填写出生日期（格式：1980-01-31）"),
            Some(b) if b >= today => e.add(&f("birth_date"), "出生日期须早于今天"),
            Some(b) if today.years_since(b).unwrap_or(0) > 120 => {
                e.add(&f("birth_date"), "请核对出生日期")
            }
            _ => {}
        }
        if !choices.nationalities.contains(&self.nationality.trim()) {
            e.add(&f("nationality"), "国籍必须在定义好的国籍中选择");
        }
        let passport = parse_passport(&self.passport_no);
        if passport.is_none() {
            e.add(
                &f("passport_no"),
                "请填写正确的护照号码（5至20位字母或数字）",
            );
        }
        let expiry = parse_date(&self.passport_expiry);
        match (expiry, departure) {
            (None, _) => e.add(
                &f("passport_expiry"),
                "请填写护照有效期（格式：2030-01-31）",
            ),
            (Some(x), Some(d)) if x < d => e.add(
                &f("passport_expiry"),
                "护照在计划出境日期前到期，请更换护照后再申请",
            ),
            _ => {}
        }
        let employer = required(e, &f("employer"), &self.employer, "工作单位", 100);
        let position = required(e, &f("position"), &self.position, "职务", 50);
        let visa_type = self.visa_type.trim().to_string();
        if !choices.visa_types.contains(&visa_type.as_str()) {
            e.add(&f("visa_type"), "请选择拟申请签证种类");
        }
        let stay_days = validate_stay(
            &f("stay_days"),
            &self.stay_days,
            trip.entry.map(EntryType::multiple),
            trip.planned_days(),
            e,
        );
        let employer_country = self.employer_country.trim().to_string();
        if !choices.countries.contains(&employer_country.as_str()) {
            e.add(
                &f("employer_country"),
                "请选择工作单位所在国家（地区）（须从列表中选择）",
            );
        }
        let employer_city = required(
            e,
            &f("employer_city"),
            &self.employer_city,
            "工作单位所在城市",
            50,
        );
        let employer_address = required(
            e,
            &f("employer_address"),
            &self.employer_address,
            "工作单位地址",
            200,
        );
        if e.iter().count() != before.iter().count() {
            return None;
        }
        Some(VisitorData {
            surname,
            given_name,
            sex: self.sex.clone(),
            birth_date: birth?,
            nationality: self.nationality.trim().to_string(),
            passport_no: passport?,
            passport_expiry: expiry?,
            employer,
            position,
            visa_type,
            stay_days,
            employer_country,
            employer_city,
            employer_address,
        })
    }
}

impl VisitorData {
    pub fn to_form(&self) -> VisitorForm {
        VisitorForm {
            surname: self.surname.clone(),
            given_name: self.given_name.clone(),
            sex: self.sex.clone(),
            birth_date: self.birth_date.to_string(),
            nationality: self.nationality.clone(),
            passport_no: self.passport_no.clone(),
            passport_expiry: self.passport_expiry.to_string(),
            employer: self.employer.clone(),
            position: self.position.clone(),
            visa_type: self.visa_type.clone(),
            stay_days: self.stay_days.map(|d| d.to_string()).unwrap_or_default(),
            employer_country: self.employer_country.clone(),
            employer_city: self.employer_city.clone(),
            employer_address: self.employer_address.clone(),
            mrz: String::new(),
        }
    }
    pub fn sex_label(&self) -> &'static str {
        if self.sex == "F" {
            "女"
        } else {
            "男"
        }
    }
    /// Full name as printed: surname then given name.
    pub fn full_name(&self) -> String {
        if self.surname.is_empty() {
            self.given_name.clone()
        } else {
            format!("{} {}", self.surname, self.given_name)
        }
    }
}

impl GroupData {
    pub fn to_form(&self, country: &str) -> GroupForm {
        GroupForm {
            name: self.name.clone(),
            purpose: self.purpose.clone(),
            arrival: self.arrival.to_string(),
            departure: self.departure.to_string(),
            places: self.places.clone(),
            cost_bearer: self.cost_bearer.clone(),
            country: country.to_string(),
            mission: self.mission_id.to_string(),
            entry_type: self.entry_type.as_str().to_string(),
            ground: Ground::code(self.ground).to_string(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            remarks: self.remarks.clone(),
            size: self.size.map(|n| n.to_string()).unwrap_or_default(),
            itinerary: self.itinerary.iter().map(ItineraryRow::to_form).collect(),
            // Confirmed anew for every group (see `workflow::groups::saved_form`).
            informed: String::new(),
        }
    }
}

/// Hash of this version of the group's data (what a printed form carries in its QR code).
pub fn data_hash(group: &GroupData, visitors: &[VisitorData]) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::json!({ "group": group, "visitors": visitors }).to_string();
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// Warnings the form shows without refusing (SPEC: passport < 6 months after departure,
/// arrival < 30 days away). The overlapping-passport warning needs the database.
pub fn warnings(group: &GroupData, visitors: &[VisitorData], today: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    if (group.arrival - today).num_days() < 30 {
        out.push(format!(
            "计划入境日期距今不足30天（{}），外宾可能来不及办理签证",
            group.arrival
        ));
    }
    let six_months = group
        .departure
        .checked_add_months(chrono::Months::new(6))
        .unwrap_or(group.departure);
    for v in visitors {
        if v.passport_expiry < six_months {
            out.push(format!(
                "{}的护照有效期（{}）不足计划出境日期后6个月，可能影响签证办理",
                v.full_name(),
                v.passport_expiry
            ));
        }
    }
    out
}

/// Working days from `from` (exclusive) to `to` (inclusive), skipping weekends and holidays.
pub fn working_days_between(from: NaiveDate, to: NaiveDate, holidays: &[NaiveDate]) -> i64 {
    use chrono::Datelike;
    if to == from {
        return 0;
    }
    if to < from {
        return -working_days_between(to, from, holidays);
    }
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = d.succ_opt().unwrap_or(d);
        let wd = d.weekday().number_from_monday();
        if wd <= 5 && !holidays.contains(&d) {
            n += 1;
        }
    }
    n
}

/// Working days left before the limit (negative when overdue).
pub fn working_days_left(
    submitted: NaiveDate,
    today: NaiveDate,
    limit: i64,
    holidays: &[NaiveDate],
) -> i64 {
    limit - working_days_between(submitted, today, holidays)
}

/// 核实单号 as the Ministry's system returns it: letters and digits only.
pub fn parse_verification_no(s: &str) -> Option<String> {
    let v = s.trim().to_uppercase();
    ((6..=40).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric())).then_some(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn choices() -> Choices<'static> {
        Choices {
            purposes: &["business"],
            cost_bearers: &["inviting_unit"],
            missions: &[(1, "USA"), (2, "USA"), (3, "JPN")],
            nationalities: &["USA", "JPN", "DEU"],
            visa_types: &["M", "F"],
            countries: &["USA", "JPN", "DEU", "HKG"],
        }
    }

    fn form() -> GroupForm {
        GroupForm {
            name: "美国客户技术交流团".into(),
            purpose: "business".into(),
            arrival: "2027-03-01".into(),
            departure: "2027-03-10".into(),
            places: "常州".into(),
            cost_bearer: "inviting_unit".into(),
            country: "USA".into(),
            mission: "2".into(),
            entry_type: "single".into(),
            ground: String::new(),
            contact_name: "李四".into(),
            contact_phone: "13900000000".into(),
            remarks: String::new(),
            size: "3".into(),
            itinerary: vec![ItineraryForm {
                date: "2027-03-02".into(),
                city: "常州".into(),
                activity: "技术交流".into(),
                host: "常州某公司".into(),
            }],
            informed: "1".into(),
        }
    }

    #[test]
    fn upload_slots_read_back_what_they_write() {
        for s in [
            "clerk_id",
            "multi_entry_proof",
            "other",
            "scan",
            "passport-12",
            "visa-3",
        ] {
            assert_eq!(UploadSlot::parse(s).unwrap().code(), s);
        }
        for s in ["", "letter", "passport-", "visa-x", "passport_1", "clerk"] {
            assert_eq!(UploadSlot::parse(s), None, "{s}");
        }
    }

    #[test]
    fn the_multiple_entry_proof_is_needed_only_for_multiple_entries() {
        let single = Some(EntryType::Single);
        assert!(Attachment::ClerkId.required(single));
        assert!(Attachment::ClerkId.required(None));
        assert!(!Attachment::MultiEntryProof.required(single));
        assert!(!Attachment::MultiEntryProof.required(None));
        assert!(Attachment::MultiEntryProof.required(Some(EntryType::OneYear)));
        assert!(!Attachment::MultiEntryProof.offered(single, false));
        assert!(Attachment::MultiEntryProof.offered(single, true));
        assert!(
            Attachment::Other.offered(single, false)
                && !Attachment::Other.required(Some(EntryType::HalfYear))
        );
    }

    #[test]
    fn a_good_form_passes() {
        let g = form().validate(&choices(), d("2026-11-27")).unwrap();
        assert_eq!(g.mission_id, 2);
        assert_eq!(g.entry_type, EntryType::Single);
        assert_eq!(g.ground, None);
    }

    #[test]
    fn departure_before_arrival_and_past_arrival_are_refused() {
        let mut f = form();
        f.departure = "2027-02-01".into();
        let e = f.validate(&choices(), d("2026-11-27")).unwrap_err();
        assert!(e.get("departure").contains("不能早于"));
        let e = form().validate(&choices(), d("2027-03-02")).unwrap_err();
        assert!(e.get("arrival").contains("不能早于今天"));
    }

    #[test]
    fn mission_must_belong_to_the_country() {
        let mut f = form();
        f.mission = "3".into();
        assert!(f
            .validate(&choices(), d("2026-11-27"))
            .unwrap_err()
            .has("mission"));
        f.mission = "999".into();
        assert!(f
            .validate(&choices(), d("2026-11-27"))
            .unwrap_err()
            .has("mission"));
        f.country = "XXX".into();
        assert!(f
            .validate(&choices(), d("2026-11-27"))
            .unwrap_err()
            .has("country"));
    }

    #[test]
    fn multiple_entry_needs_a_fitting_ground() {
        let mut f = form();
        f.entry_type = "half_year".into();
        assert!(f
            .validate(&choices(), d("2026-11-27"))
            .unwrap_err()
            .has("ground"));
        f.entry_type = "one_year".into();
        f.ground = "entries_5".into();
        assert!(f
            .validate(&choices(), d("2026-11-27"))
            .unwrap_err()
            .has("ground"));
        f.ground = "entries_10".into();
        assert_eq!(
            f.validate(&choices(), d("2026-11-27")).unwrap().ground,
            Some(Ground::Entries10)
        );
    }

    #[test]
    fn visitor_rules() {
        let v = VisitorForm {
            surname: String::new(),
            given_name: "LISA MOHAMODE".into(),
            sex: "F".into(),
            birth_date: "1985-05-05".into(),
            nationality: "USA".into(),
            passport_no: "e1234567".into(),
            passport_expiry: "2027-03-05".into(),
            employer: "ACME".into(),
            position: "Engineer".into(),
            visa_type: "M".into(),
            stay_days: "10".into(),
            employer_country: "USA".into(),
            employer_city: "Boston".into(),
            employer_address: "1 Main St".into(),
            mrz: String::new(),
        };
        let trip = Trip::of(&form());
        let mut e = FieldErrors::new();
        assert!(v
            .validate(0, &choices(), &trip, d("2026-11-27"), &mut e)
            .is_none());
        assert!(e.get("v0_passport_expiry").contains("到期"));
        let mut ok = v.clone();
        ok.passport_expiry = "2030-01-01".into();
        let mut e = FieldErrors::new();
        let data = ok
            .validate(0, &choices(), &trip, d("2026-11-27"), &mut e)
            .unwrap();
        assert_eq!(data.passport_no, "E1234567");
        assert_eq!(data.full_name(), "LISA MOHAMODE");
        let mut bad = ok.clone();
        bad.nationality = "CHN".into();
        let mut e = FieldErrors::new();
        assert!(bad
            .validate(2, &choices(), &Trip::default(), d("2026-11-27"), &mut e)
            .is_none());
        assert_eq!(e.get("v2_nationality"), "国籍必须在定义好的国籍中选择");
        let mut bad = ok.clone();
        bad.visa_type = "Z".into();
        bad.stay_days = "9".into();
        bad.employer_country = "CHX".into();
        bad.employer_city = String::new();
        let mut e = FieldErrors::new();
        assert!(bad
            .validate(1, &choices(), &trip, d("2026-11-27"), &mut e)
            .is_none());
        assert_eq!(e.get("v1_visa_type"), "请选择拟申请签证种类");
        assert!(e.get("v1_stay_days").contains("10天"));
        assert!(e.has("v1_employer_country"));
        assert_eq!(e.get("v1_employer_city"), "请填写工作单位所在城市");
    }

    #[test]
    fn warnings_for_short_passport_and_close_arrival() {
        let g = form().validate(&choices(), d("2026-11-27")).unwrap();
        let v = VisitorData {
            surname: "DOE".into(),
            given_name: "JOHN".into(),
            sex: "M".into(),
            birth_date: d("1980-01-01"),
            nationality: "USA".into(),
            passport_no: "X12345".into(),
            passport_expiry: d("2027-06-01"),
            employer: "A".into(),
            position: "B".into(),
            visa_type: String::new(),
            stay_days: None,
            employer_country: String::new(),
            employer_city: String::new(),
            employer_address: String::new(),
        };
        let w = warnings(&g, &[v], d("2027-02-15"));
        assert_eq!(w.len(), 2, "{w:?}");
        let w = warnings(&g, &[], d("2026-11-27"));
        assert!(w.is_empty());
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // 2026-11-27 is a Friday.
        assert_eq!(
            working_days_between(d("2026-11-27"), d("2026-11-30"), &[]),
            1
        );
        assert_eq!(
            working_days_between(d("2026-11-27"), d("2026-12-04"), &[]),
            5
        );
        assert_eq!(
            working_days_between(d("2026-11-27"), d("2026-12-04"), &[d("2026-12-01")]),
            4
        );
        assert_eq!(
            working_days_left(d("2026-11-27"), d("2026-12-07"), 5, &[]),
            -1
        );
        assert_eq!(
            working_days_between(d("2026-11-27"), d("2026-11-27"), &[]),
            0
        );
        assert_eq!(
            working_days_between(d("2026-11-30"), d("2026-11-27"), &[]),
            -1
        );
    }

    #[test]
    fn verification_numbers_are_letters_and_digits() {
        assert_eq!(
            parse_verification_no(" hw3255020200727800043 ").unwrap(),
            "HW3255020200727800043"
        );
        assert!(parse_verification_no("HW 3255").is_none());
        assert!(parse_verification_no("HW-32550202").is_none());
    }

    fn hashed_group(entry_type: &str, ground: &str) -> (GroupData, Vec<VisitorData>) {
        let mut f = form();
        f.entry_type = entry_type.into();
        f.ground = ground.into();
        let mut g = f.validate(&choices(), d("2026-11-27")).unwrap();
        // As a group saved before issue 16 has it.
        g.size = None;
        g.itinerary.clear();
        let v = VisitorData {
            surname: "DOE".into(),
            given_name: "JOHN".into(),
            sex: "M".into(),
            birth_date: d("1980-01-01"),
            nationality: "USA".into(),
            passport_no: "X12345".into(),
            passport_expiry: d("2030-06-01"),
            employer: "ACME".into(),
            position: "Engineer".into(),
            visa_type: String::new(),
            stay_days: None,
            employer_country: String::new(),
            employer_city: String::new(),
            employer_address: String::new(),
        };
        (g, vec![v])
    }

    /// Printed forms carry this hash: it must not change with the types behind it.
    #[test]
    fn the_hash_of_a_version_is_stable() {
        let (g, v) = hashed_group("one_year", "entries_10");
        assert_eq!(
            data_hash(&g, &v),
            "25cba4c96240002493a19270a321c7aaec34ee43fda16a4264f79a4a93d9af73"
        );
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["entry_type"], "one_year");
        assert_eq!(json["ground"], "entries_10");
        assert_eq!(serde_json::from_value::<GroupData>(json).unwrap(), g);
        let (g, v) = hashed_group("single", "");
        assert_eq!(
            data_hash(&g, &v),
            "8e888966a59e958e4373e3520de556942e99eac66ed838373d9f90630523ea78"
        );
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["ground"], "");
        assert_eq!(serde_json::from_value::<GroupData>(json).unwrap(), g);
    }

    #[test]
    fn hash_changes_with_the_data() {
        let g = form().validate(&choices(), d("2026-11-27")).unwrap();
        let mut g2 = g.clone();
        g2.places = "常州、苏州".into();
        assert_ne!(data_hash(&g, &[]), data_hash(&g2, &[]));
        let mut g3 = g.clone();
        g3.itinerary[0].city = "苏州".into();
        assert_ne!(data_hash(&g, &[]), data_hash(&g3, &[]));
        g3.size = Some(4);
        let json = serde_json::to_value(&g3).unwrap();
        assert_eq!(json["size"], 4);
        assert_eq!(serde_json::from_value::<GroupData>(json).unwrap(), g3);
        assert_eq!(data_hash(&g, &[]), data_hash(&g.clone(), &[]));
    }
}
