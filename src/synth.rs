//! Synthetic data for load tests (`laihua seed-synthetic`, issue 7): inviting units across every
//! district, groups in every state over several years with 1–5 visitors of many nationalities,
//! post-visit registrations, messages and a chained audit log, deterministic for a seed.
//!
//! Units, their accounts and their registration reviews go through the same store functions as
//! the web handlers, one row at a time (ten thousand units take seconds). Groups are simulated
//! from creation to the state they reach by "now" and written in bulk with the store's import
//! functions (one multi-row INSERT per few hundred rows, a transaction per batch of groups): a
//! million groups walked through the per-row handlers' statements would take hours. Audit entries
//! and messages of every step are kept in a time-ordered queue and written once every group
//! that could precede them has been generated, so that both logs are in time order and the audit
//! hash chain is the one `laihua audit verify` recomputes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{Backend, Db};
use crate::domain::audit::ObjectType;
use crate::domain::group::{data_hash, EntryType, Ground, GroupData, GroupState, VisitorData};
use crate::domain::group_fields::{self, ItineraryRow};
use crate::domain::group_flow::{self, GroupAction, Sequence};
use crate::domain::registration::{RegData, RegState};
use crate::domain::visit::{VisitData, VisitState};
use crate::domain::LoginId;
use crate::files::FileStore;
use crate::store::audit::{self, ImportAudit as AuditRow};
use crate::store::bulk::{self, BulkTable};
use crate::store::groups::{self, ImportGroup, ImportVisitor};
use crate::store::messages::{self, NewMessage};
use crate::store::units::{self, Decision};
use crate::store::users::{self, NewUser, Role};
use crate::store::visits::{self, ImportRecord};
use crate::store::{reference, refs, Actor, Conn};
use crate::workflow::notify::{self, Notice};

/// Password of every synthetic unit account (`synth00001`, `synth00002`, …).
pub const UNIT_PASSWORD: &str = "Synth@2026";

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub units: usize,
    pub groups: usize,
    pub seed: u64,
    /// Years of history before `now`.
    pub years: i64,
    /// The present (groups reach the state their simulated history gives by then).
    pub now: i64,
    /// Groups per transaction.
    pub batch: usize,
}

impl Options {
    pub fn new(units: usize, groups: usize, seed: u64, now: i64) -> Options {
        Options {
            units,
            groups,
            seed,
            years: 4,
            now,
            batch: 5000,
        }
    }
}

/// What was generated, with identifiers a benchmark can use.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Rows per table after the run.
    pub tables: Vec<(String, i64)>,
    /// Groups per state.
    pub states: Vec<(String, i64)>,
    pub seconds: f64,
    /// The busiest unit's login ID (its password is [`UNIT_PASSWORD`]).
    pub unit_login: String,
    pub unit_groups: i64,
    /// A county account of that unit's district, and the city account.
    pub county_login: String,
    pub city_login: String,
    /// A dispatched group of that unit and the passport number of one of its visitors.
    pub dispatched_group: i64,
    pub passport: String,
}

impl Summary {
    /// `key=value` lines for scripts (prefixed `sample `).
    pub fn sample_lines(&self) -> Vec<String> {
        vec![
            format!("sample unit_login={}", self.unit_login),
            format!("sample unit_password={UNIT_PASSWORD}"),
            format!("sample unit_groups={}", self.unit_groups),
            format!("sample county_login={}", self.county_login),
            format!("sample city_login={}", self.city_login),
            format!("sample staff_password={}", crate::seed::DEMO_PASSWORD),
            format!("sample group_id={}", self.dispatched_group),
            format!("sample passport={}", self.passport),
        ]
    }
}

// ---- word lists ----

const FIRM_A: &[(&str, &str)] = &[
    ("博远", "Boyuan"),
    ("华信", "Huaxin"),
    ("天合", "Tianhe"),
    ("恒力", "Hengli"),
    ("东方", "Dongfang"),
    ("新科", "Xinke"),
    ("瑞声", "Ruisheng"),
    ("龙城", "Longcheng"),
    ("星宇", "Xingyu"),
    ("润泰", "Runtai"),
    ("精工", "Jinggong"),
    ("宏达", "Hongda"),
    ("嘉和", "Jiahe"),
    ("联创", "Lianchuang"),
    ("科华", "Kehua"),
    ("安信", "Anxin"),
    ("晨光", "Chenguang"),
    ("恒源", "Hengyuan"),
    ("盛世", "Shengshi"),
    ("汇通", "Huitong"),
    ("鼎盛", "Dingsheng"),
    ("长江", "Changjiang"),
    ("太湖", "Taihu"),
    ("明德", "Mingde"),
    ("力拓", "Lituo"),
    ("中天", "Zhongtian"),
    ("亚邦", "Yabang"),
    ("金源", "Jinyuan"),
    ("永安", "Yong'an"),
    ("凯润", "Kairun"),
];
const FIRM_B: &[(&str, &str)] = &[
    ("", ""),
    ("电气", "Electric"),
    ("精密", "Precision"),
    ("智能", "Smart"),
    ("新能源", "New Energy"),
    ("光电", "Optoelectronics"),
    ("环保", "Environmental"),
    ("动力", "Power"),
    ("材料", "Materials"),
    ("数控", "CNC"),
    ("汽车", "Automotive"),
    ("医疗", "Medical"),
    ("信息", "Information"),
    ("化学", "Chemical"),
    ("纺织", "Textile"),
    ("食品", "Food"),
    ("物流", "Logistics"),
    ("轨道交通", "Rail Transit"),
    ("航空", "Aviation"),
    ("生物", "Biotech"),
];
/// (suffix, English suffix, unit type)
const FIRM_KIND: &[(&str, &str, &str)] = &[
    ("科技有限公司", "Technology Co., Ltd.", "企业"),
    ("机械有限公司", "Machinery Co., Ltd.", "企业"),
    ("股份有限公司", "Co., Ltd.", "企业"),
    (
        "设备制造有限公司",
        "Equipment Manufacturing Co., Ltd.",
        "企业",
    ),
    (
        "国际贸易有限公司",
        "International Trading Co., Ltd.",
        "企业",
    ),
    ("集团有限公司", "Group Co., Ltd.", "企业"),
    ("研究院", "Research Institute", "事业单位"),
    ("职业技术学院", "Vocational College", "学校"),
    ("外国语学校", "Foreign Language School", "学校"),
    ("医院", "Hospital", "医院"),
    ("商会", "Chamber of Commerce", "社会团体"),
    ("工业园管理委员会", "Industrial Park Administration", "机关"),
];
const CN_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "蒋", "蔡", "沈", "钱", "顾", "陆",
];
const CN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "海燕", "建国", "丽华", "文博",
    "子涵", "雨萱", "浩然", "思远", "嘉怡", "俊杰", "欣怡",
];
const ROADS: &[&str] = &[
    "延陵西路",
    "晋陵中路",
    "龙城大道",
    "通江中路",
    "长江北路",
    "太湖东路",
    "常武中路",
    "武宜路",
    "青洋北路",
    "关河东路",
    "怀德中路",
    "劳动东路",
    "和平北路",
    "河海东路",
    "华山路",
    "汉江路",
];
const TOPICS: &[&str] = &[
    "商务洽谈",
    "技术交流",
    "设备安装调试",
    "合作研发",
    "学术交流",
    "考察",
    "培训",
    "质量审核",
    "项目验收",
    "展会参观",
    "售后服务",
    "投资考察",
];
const PLACES: &[&str] = &[
    "常州",
    "常州",
    "常州",
    "常州、上海",
    "常州、南京",
    "常州、苏州、无锡",
    "常州、北京",
    "常州、深圳、广州",
    "常州、杭州",
];
const POSITIONS: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Manager",
    "General Manager",
    "Sales Director",
    "Technician",
    "Professor",
    "Researcher",
    "CEO",
    "Purchasing Manager",
    "Quality Auditor",
    "Consultant",
];
const EMPLOYERS: &[&str] = &[
    "Siemens AG",
    "General Electric",
    "Bosch GmbH",
    "Toyota Motor Corp.",
    "Samsung Electronics",
    "ABB Ltd.",
    "Schneider Electric",
    "Panasonic",
    "Hyundai Motor",
    "Michelin",
    "Nestle",
    "Philips",
    "University of Manchester",
    "Tokyo Institute of Technology",
    "Volvo Cars",
    "Tata Steel",
    "Thyssenkrupp",
    "Mitsubishi Heavy Industries",
    "LG Chem",
    "Schaeffler",
    "Caterpillar",
    "3M",
    "Honeywell",
    "Continental AG",
];
const RETURN_REASONS: &[&str] = &[
    "上传的申请表扫描件未加盖单位公章，请盖章后重新扫描上传。",
    "使领馆选择有误：请选择外宾实际办理签证的使领馆。",
    "到访人员护照有效期不足计划出境日期后6个月，请核对护照信息。",
    "来华事由与行程安排不符，请在备注中补充具体活动安排。",
    "到访人员姓名拼写与护照不一致，请核对后修改。",
    "申请半年多次入境须上传上一年度出入境记录页，请补充材料。",
];
const CANCEL_REASONS: &[&str] = &[
    "外方公司人员调整，行程取消。",
    "签证未能按时办妥，行程取消。",
    "项目延期，本次来访取消。",
];

/// Visitor name pools: (surnames, male given names, female given names).
struct Names(
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const EN: Names = Names(
    &[
        "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "WILSON", "TAYLOR",
        "ANDERSON", "THOMAS", "MOORE", "MARTIN", "THOMPSON", "WHITE", "HARRIS", "CLARK", "LEWIS",
        "WALKER", "HALL", "YOUNG", "KING", "WRIGHT", "SCOTT", "GREEN", "BAKER", "ADAMS", "NELSON",
    ],
    &[
        "JAMES",
        "JOHN",
        "ROBERT",
        "MICHAEL",
        "WILLIAM",
        "DAVID",
        "RICHARD",
        "JOSEPH",
        "THOMAS",
        "CHRISTOPHER",
        "DANIEL",
        "MATTHEW",
        "ANDREW",
        "MARK",
        "PAUL",
        "STEVEN",
        "KEVIN",
        "BRIAN",
    ],
    &[
        "MARY",
        "PATRICIA",
        "JENNIFER",
        "LINDA",
        "ELIZABETH",
        "SARAH",
        "JESSICA",
        "KAREN",
        "NANCY",
        "LISA",
        "EMILY",
        "LAURA",
        "RACHEL",
        "EMMA",
        "OLIVIA",
    ],
);
const DE: Names = Names(
    &[
        "MUELLER",
        "SCHMIDT",
        "SCHNEIDER",
        "FISCHER",
        "WEBER",
        "MEYER",
        "WAGNER",
        "BECKER",
        "SCHULZ",
        "HOFFMANN",
        "KOCH",
        "RICHTER",
        "KLEIN",
        "WOLF",
        "SCHROEDER",
        "NEUMANN",
    ],
    &[
        "LUKAS",
        "JONAS",
        "MAXIMILIAN",
        "FELIX",
        "STEFAN",
        "ANDREAS",
        "MARKUS",
        "THOMAS",
        "JUERGEN",
        "KLAUS",
        "TOBIAS",
        "FLORIAN",
    ],
    &[
        "ANNA",
        "LENA",
        "SOPHIE",
        "KATHARINA",
        "JULIA",
        "SABINE",
        "PETRA",
        "MONIKA",
        "CLAUDIA",
    ],
);
const FR: Names = Names(
    &[
        "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
        "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID",
    ],
    &[
        "JEAN", "PIERRE", "NICOLAS", "PHILIPPE", "FRANCOIS", "LOUIS", "JULIEN", "ANTOINE",
        "OLIVIER", "MATHIEU",
    ],
    &[
        "MARIE", "CAMILLE", "CHLOE", "ISABELLE", "NATHALIE", "CELINE", "SOPHIE", "AURELIE",
    ],
);
const ES: Names = Names(
    &[
        "GARCIA",
        "RODRIGUEZ",
        "GONZALEZ",
        "FERNANDEZ",
        "LOPEZ",
        "MARTINEZ",
        "SANCHEZ",
        "PEREZ",
        "GOMEZ",
        "DIAZ",
        "SILVA",
        "SANTOS",
        "OLIVEIRA",
        "SOUZA",
        "PEREIRA",
        "COSTA",
    ],
    &[
        "JOSE", "ANTONIO", "CARLOS", "JUAN", "LUIS", "MIGUEL", "JAVIER", "DIEGO", "JOAO", "PEDRO",
        "RAFAEL", "FERNANDO",
    ],
    &[
        "MARIA", "CARMEN", "ANA", "LUCIA", "SOFIA", "ISABEL", "GABRIELA", "FERNANDA", "BEATRIZ",
    ],
);
const IT: Names = Names(
    &[
        "ROSSI", "RUSSO", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO", "COLOMBO", "RICCI", "MARINO",
        "GRECO", "BRUNO", "GALLO", "CONTI", "DE LUCA",
    ],
    &[
        "MARCO",
        "ALESSANDRO",
        "LUCA",
        "GIUSEPPE",
        "FRANCESCO",
        "ANDREA",
        "MATTEO",
        "LORENZO",
    ],
    &[
        "GIULIA",
        "FRANCESCA",
        "CHIARA",
        "SARA",
        "VALENTINA",
        "ELENA",
    ],
);
const RU: Names = Names(
    &[
        "IVANOV",
        "SMIRNOV",
        "KUZNETSOV",
        "POPOV",
        "VASILIEV",
        "PETROV",
        "SOKOLOV",
        "MIKHAILOV",
        "NOVIKOV",
        "FEDOROV",
        "MOROZOV",
        "VOLKOV",
        "KOVALENKO",
        "SHEVCHENKO",
    ],
    &[
        "ALEXANDER",
        "SERGEY",
        "DMITRY",
        "ANDREY",
        "ALEXEY",
        "MAXIM",
        "IVAN",
        "NIKOLAY",
        "OLEG",
    ],
    &[
        "ELENA",
        "OLGA",
        "NATALIA",
        "TATIANA",
        "ANNA",
        "IRINA",
        "SVETLANA",
        "EKATERINA",
    ],
);
const JA: Names = Names(
    &[
        "SATO",
        "SUZUKI",
        "TAKAHASHI",
        "TANAKA",
        "WATANABE",
        "ITO",
        "YAMAMOTO",
        "NAKAMURA",
        "KOBAYASHI",
        "KATO",
        "YOSHIDA",
        "YAMADA",
        "SASAKI",
        "MATSUMOTO",
        "INOUE",
        "KIMURA",
    ],
    &[
        "HIROSHI", "TAKESHI", "KENJI", "YUKI", "DAISUKE", "KAZUKI", "SHOTA", "HARUTO", "TAKUYA",
        "RYO",
    ],
    &[
        "YUKO", "AKIKO", "MISAKI", "HARUKA", "AYAKA", "NAOMI", "SAKURA", "YUI",
    ],
);
const KO: Names = Names(
    &[
        "KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "CHO", "YOON", "JANG", "LIM", "HAN", "OH",
        "SEO", "SHIN",
    ],
    &[
        "MINJUN", "SEOJUN", "JIHO", "DOYUN", "JUNHO", "HYUNWOO", "SUNGMIN", "DONGHYUN", "JAEWON",
    ],
    &[
        "SEOYEON", "JIWOO", "MINJI", "SOYEON", "JIYEON", "HYEJIN", "EUNJI", "YUNA",
    ],
);
const VI: Names = Names(
    &[
        "NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "PHAN", "VU", "VO", "DANG", "BUI", "DO",
    ],
    &[
        "VAN ANH",
        "DUC MINH",
        "QUANG HUY",
        "THANH TUNG",
        "HOANG NAM",
        "MINH KHOA",
    ],
    &[
        "THI HUONG",
        "THI LAN",
        "NGOC ANH",
        "THU TRANG",
        "MAI LINH",
        "PHUONG THAO",
    ],
);
const TH: Names = Names(
    &[
        "SRISUK",
        "CHAIYAPORN",
        "WONGSAWAT",
        "SUKSAWAT",
        "BOONMA",
        "KAEWKLA",
        "THONGDEE",
        "RATTANAKUL",
    ],
    &[
        "SOMCHAI", "SOMSAK", "ANURAK", "KITTISAK", "PRASERT", "WICHAI",
    ],
    &["SOMSRI", "MALAI", "SUDA", "PORNPIMOL", "KANYA", "NIPA"],
);
const IN: Names = Names(
    &[
        "SHARMA", "PATEL", "SINGH", "KUMAR", "GUPTA", "REDDY", "IYER", "NAIR", "MEHTA", "JOSHI",
        "RAO", "DAS",
    ],
    &[
        "RAHUL", "AMIT", "VIJAY", "SURESH", "ARJUN", "RAJESH", "VIKRAM", "ANIL",
    ],
    &[
        "PRIYA", "ANANYA", "DEEPA", "KAVITA", "NEHA", "POOJA", "SUNITA",
    ],
);
const AR: Names = Names(
    &[
        "AL-SAYED",
        "HASSAN",
        "IBRAHIM",
        "MAHMOUD",
        "ALI",
        "KHALIL",
        "AL-RASHID",
        "MANSOUR",
        "HADDAD",
        "NASSER",
        "SALEH",
        "YILMAZ",
        "KAYA",
        "DEMIR",
    ],
    &[
        "MOHAMMED", "AHMED", "OMAR", "KHALED", "YOUSSEF", "TAREK", "MEHMET", "MUSTAFA",
    ],
    &[
        "FATIMA", "AISHA", "LAYLA", "NOUR", "MARIAM", "ZEYNEP", "ELIF",
    ],
);
const NL: Names = Names(
    &[
        "DE JONG",
        "JANSEN",
        "DE VRIES",
        "VAN DEN BERG",
        "BAKKER",
        "VISSER",
        "JOHANSSON",
        "ANDERSSON",
        "NILSSON",
        "HANSEN",
        "NIELSEN",
        "KORHONEN",
        "VIRTANEN",
        "KOWALSKI",
        "NOWAK",
    ],
    &[
        "DAAN", "SEM", "ERIK", "LARS", "MAGNUS", "MIKKO", "PIOTR", "JAN", "NILS",
    ],
    &[
        "EMMA",
        "SARA",
        "INGRID",
        "ANNA",
        "SOFIE",
        "KATARZYNA",
        "MAJA",
        "LINNEA",
    ],
);
const MS: Names = Names(
    &[
        "TAN", "LIM", "LEE", "NG", "WONG", "ABDULLAH", "RAHMAN", "SANTOSO", "WIJAYA", "HALIM",
        "IBRAHIM", "REYES", "CRUZ", "BAUTISTA",
    ],
    &[
        "WEI MING", "JUN HAO", "AHMAD", "BUDI", "ARIF", "JOSE", "MARK", "KELVIN",
    ],
    &[
        "MEI LING", "HUI MIN", "SITI", "DEWI", "NUR", "MARIA", "GRACE",
    ],
);

/// The city of a visitor's employer (by nationality; the generator keeps it simple).
fn employer_city(alpha3: &str) -> &'static str {
    match alpha3 {
        "USA" => "New York",
        "GBR" => "London",
        "CAN" => "Toronto",
        "AUS" => "Sydney",
        "JPN" => "Tokyo",
        "KOR" => "Seoul",
        "DEU" => "Munich",
        "FRA" => "Paris",
        "RUS" => "Moscow",
        "ITA" => "Milan",
        _ => "Capital City",
    }
}

/// A plausible itinerary within the planned stay: arrival, a visit to the unit, a day in
/// another city on longer stays, departure.
fn itinerary_of(arrival: NaiveDate, departure: NaiveDate, host: &str) -> Vec<ItineraryRow> {
    let mut rows = vec![ItineraryRow {
        date: arrival,
        city: "上海".into(),
        activity: "抵达，前往常州".into(),
        host: host.to_string(),
    }];
    if let Some(d) = arrival.succ_opt().filter(|d| *d < departure) {
        rows.push(ItineraryRow {
            date: d,
            city: "常州".into(),
            activity: "参观企业，业务洽谈".into(),
            host: host.to_string(),
        });
    }
    if (departure - arrival).num_days() > 4 {
        rows.push(ItineraryRow {
            date: arrival + chrono::Days::new(3),
            city: "苏州".into(),
            activity: "考察合作伙伴".into(),
            host: host.to_string(),
        });
    }
    if departure > arrival {
        rows.push(ItineraryRow {
            date: departure,
            city: "上海".into(),
            activity: "离境".into(),
            host: host.to_string(),
        });
    }
    rows
}

fn names_for(alpha3: &str) -> &'static Names {
    match alpha3 {
        "DEU" | "AUT" | "CHE" | "LIE" | "LUX" => &DE,
        "FRA" | "BEL" | "MCO" | "SEN" | "CIV" | "CMR" | "MAR" | "TUN" | "DZA" => &FR,
        "ESP" | "MEX" | "ARG" | "CHL" | "COL" | "PER" | "VEN" | "ECU" | "BRA" | "PRT" | "URY"
        | "CUB" | "BOL" | "PRY" => &ES,
        "ITA" | "SMR" | "MLT" | "GRC" | "CYP" | "ROU" => &IT,
        "RUS" | "UKR" | "BLR" | "KAZ" | "UZB" | "KGZ" | "TJK" | "MDA" | "ARM" | "GEO" | "AZE"
        | "BGR" | "SRB" | "MNG" => &RU,
        "JPN" => &JA,
        "KOR" | "PRK" => &KO,
        "VNM" | "LAO" | "KHM" => &VI,
        "THA" | "MMR" => &TH,
        "IND" | "PAK" | "BGD" | "NPL" | "LKA" => &IN,
        "SAU" | "ARE" | "EGY" | "JOR" | "QAT" | "KWT" | "OMN" | "BHR" | "IRQ" | "SYR" | "LBN"
        | "TUR" | "IRN" | "ISR" | "DJI" | "YEM" | "LBY" | "SDN" => &AR,
        "NLD" | "SWE" | "NOR" | "DNK" | "FIN" | "ISL" | "POL" | "CZE" | "SVK" | "HUN" | "EST"
        | "LVA" | "LTU" => &NL,
        "SGP" | "MYS" | "IDN" | "PHL" | "BRN" => &MS,
        _ => &EN,
    }
}

/// Nationalities most visitors have, with weights (the rest are spread over every country).
const COMMON_NATIONALITIES: &[(&str, u32)] = &[
    ("USA", 12),
    ("JPN", 10),
    ("KOR", 9),
    ("DEU", 8),
    ("GBR", 5),
    ("FRA", 4),
    ("RUS", 4),
    ("ITA", 3),
    ("SGP", 3),
    ("AUS", 3),
    ("CAN", 3),
    ("IND", 3),
    ("VNM", 3),
    ("THA", 2),
    ("MYS", 2),
    ("IDN", 2),
    ("BRA", 2),
    ("ESP", 2),
    ("NLD", 2),
    ("SWE", 1),
    ("CHE", 1),
    ("MEX", 1),
    ("SAU", 1),
    ("ARE", 1),
    ("TUR", 1),
    ("POL", 1),
    ("ISR", 1),
];

fn pick<'a, T>(rng: &mut StdRng, list: &'a [T]) -> &'a T {
    &list[rng.gen_range(0..list.len())]
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

fn date_of(ts: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&crate::clock::beijing())
        .date_naive()
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp() - 8 * HOUR)
        .unwrap_or(0)
}

fn year_of(ts: i64) -> i64 {
    i64::from(date_of(ts).year())
}

/// A unit and the account that acts for it.
struct UnitInfo {
    id: i64,
    user: Actor,
    /// Index in `districts`, and the district's id.
    district: usize,
    district_id: i64,
    approved_at: Option<i64>,
    contact: (String, String),
    /// The unit's name (the host on its groups' itineraries).
    name: String,
}

struct Staff {
    /// One county account per district (index as in `districts`).
    county: Vec<Actor>,
    city: Actor,
}

/// One step of someone's history: its audit entry and the unit's message, if any.
struct Event {
    at: i64,
    order: u64,
    unit: u32,
    what: What,
}

enum What {
    UnitCreate,
    UnitSubmit,
    UnitCounty,
    UnitCity,
    UnitCountyReturn(u8),
    GroupCreate(i64, Box<str>),
    /// An action of the group's table, taken by `by`; `value` is what the action records (the
    /// data version printed, the reason of a return, the number drawn or entered, the letter).
    Group {
        id: i64,
        number: Box<str>,
        action: GroupAction,
        by: Role,
        value: Box<str>,
    },
    VisitSave(i64),
    VisitSubmit(i64),
    VisitCounty(i64, Box<str>, Box<str>),
    VisitComplete(i64, Box<str>, Box<str>),
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(o.at, o.order))
    }
}

/// The time-ordered queue of steps not yet written.
struct Timeline {
    heap: BinaryHeap<Reverse<Event>>,
    order: u64,
}

impl Timeline {
    fn push(&mut self, at: i64, unit: usize, what: What) {
        self.order += 1;
        self.heap.push(Reverse(Event {
            at,
            order: self.order,
            unit: unit as u32,
            what,
        }));
    }
    /// Takes every step up to `until`, oldest first.
    fn take_until(&mut self, until: i64) -> Vec<Event> {
        let mut out = Vec::new();
        while self.heap.peek().is_some_and(|Reverse(e)| e.at <= until) {
            if let Some(Reverse(e)) = self.heap.pop() {
                out.push(e);
            }
        }
        out
    }
}

/// Everything the writer needs to turn steps into rows.
struct Ctx {
    units: Vec<UnitInfo>,
    staff: Staff,
    now: i64,
    seed: u64,
}

fn read_at(ctx: &Ctx, order: u64, at: i64) -> Option<i64> {
    // Older messages were read within two days; about half of the last week's are unread.
    let h = order.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ctx.seed;
    let delay = (h % (2 * DAY as u64)) as i64 + 60;
    if at > ctx.now - 7 * DAY && h.is_multiple_of(2) {
        None
    } else {
        Some((at + delay).min(ctx.now))
    }
}

fn rows_of(ctx: &Ctx, events: Vec<Event>) -> (Vec<AuditRow>, Vec<NewMessage>) {
    let mut audit_rows = Vec::with_capacity(events.len());
    let mut msgs = Vec::new();
    for e in events {
        let u = &ctx.units[e.unit as usize];
        let county = ctx.staff.county[u.district].clone();
        let city = ctx.staff.city.clone();
        let mut row = |actor: &Actor, action, object_type, id: String, detail: String| {
            audit_rows.push(AuditRow {
                at: e.at,
                actor: actor.clone(),
                action,
                object_type,
                object_id: id,
                detail,
            })
        };
        let notice: Option<(Actor, Notice)> = match &e.what {
            What::UnitCreate => {
                row(
                    &u.user,
                    "unit.create",
                    ObjectType::Unit,
                    u.id.to_string(),
                    String::new(),
                );
                None
            }
            What::UnitSubmit => {
                row(
                    &u.user,
                    "unit.submit",
                    ObjectType::Unit,
                    u.id.to_string(),
                    String::new(),
                );
                Some((u.user.clone(), notify::registration_submitted()))
            }
            What::UnitCounty => {
                row(
                    &county,
                    "unit.county_approve",
                    ObjectType::Unit,
                    u.id.to_string(),
                    String::new(),
                );
                Some((county, notify::registration_county_passed()))
            }
            What::UnitCity => {
                row(
                    &city,
                    "unit.city_approve",
                    ObjectType::Unit,
                    u.id.to_string(),
                    String::new(),
                );
                Some((city, notify::registration_approved()))
            }
            What::UnitCountyReturn(r) => {
                let reason = RETURN_REASONS[*r as usize % 2];
                row(
                    &county,
                    "unit.county_return",
                    ObjectType::Unit,
                    u.id.to_string(),
                    reason.to_string(),
                );
                Some((county, notify::registration_returned("县区外办", reason)))
            }
            What::GroupCreate(id, number) => {
                row(
                    &u.user,
                    "group.create",
                    ObjectType::Group,
                    id.to_string(),
                    format!("团组编号{number}"),
                );
                None
            }
            What::Group {
                id,
                number,
                action,
                by,
                value,
            } => {
                let actor = match by {
                    Role::Unit => u.user.clone(),
                    Role::County => county,
                    _ => city,
                };
                let detail = match action {
                    GroupAction::Print => format!("数据版本{value}"),
                    GroupAction::Accept => format!("受理编号{value}"),
                    GroupAction::Report => format!("核实单号{value}"),
                    GroupAction::Dispatch => format!("邀请函：{value}"),
                    _ => value.to_string(),
                };
                row(
                    &actor,
                    action.audit_name(),
                    ObjectType::Group,
                    id.to_string(),
                    detail,
                );
                let notice = match action {
                    GroupAction::Submit => Some(notify::group_submitted(number)),
                    GroupAction::CountyApprove => Some(notify::group_county_passed(number)),
                    GroupAction::CountyReturn | GroupAction::CityReturn => {
                        Some(notify::group_returned(number, by.office(), value))
                    }
                    GroupAction::Accept => Some(notify::group_accepted(number, value)),
                    GroupAction::Report => Some(notify::group_reported(number, value)),
                    GroupAction::Dispatch => Some(notify::group_dispatched(number)),
                    GroupAction::Withdraw => Some(notify::group_withdrawn(number)),
                    GroupAction::MinistryRefuse => {
                        Some(notify::group_ministry_refused(number, value))
                    }
                    GroupAction::Cancel => {
                        Some(notify::group_cancelled(number, *by == Role::Unit, value))
                    }
                    GroupAction::Save
                    | GroupAction::Upload
                    | GroupAction::Print
                    | GroupAction::Delete => None,
                };
                notice.map(|n| (actor, n))
            }
            What::VisitSave(id) => {
                row(
                    &u.user,
                    "visit.save",
                    ObjectType::Visit,
                    id.to_string(),
                    String::new(),
                );
                None
            }
            What::VisitSubmit(id) => {
                row(
                    &u.user,
                    "visit.submit",
                    ObjectType::Visit,
                    id.to_string(),
                    String::new(),
                );
                None
            }
            What::VisitCounty(id, name, number) => {
                row(
                    &county,
                    "visit.county_approve",
                    ObjectType::Visit,
                    id.to_string(),
                    String::new(),
                );
                Some((county, notify::visit_county_passed(name, number)))
            }
            What::VisitComplete(id, name, number) => {
                row(
                    &city,
                    "visit.complete",
                    ObjectType::Visit,
                    id.to_string(),
                    String::new(),
                );
                Some((city, notify::visit_completed(name, number)))
            }
        };
        if let Some((sender, n)) = notice {
            msgs.push(NewMessage {
                unit_id: u.id,
                sender,
                title: n.title,
                body: n.body,
                created_at: e.at,
                read_at: if n.own_action {
                    Some(e.at)
                } else {
                    read_at(ctx, e.order, e.at)
                },
            });
        }
    }
    (audit_rows, msgs)
}

async fn write_events(conn: &mut Conn, ctx: &Ctx, events: Vec<Event>) -> anyhow::Result<()> {
    let (audit_rows, msgs) = rows_of(ctx, events);
    audit::append_chained(conn, &audit_rows).await?;
    messages::insert_many(conn, &msgs).await?;
    Ok(())
}

const SCAN_NAME: &str = "邀请外国人来华申请表（盖章）.pdf";
const LETTER_NAME: &str = "邀请函.pdf";

/// A one-page PDF to stand for every stamped scan and letter.
fn tiny_pdf(label: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n% {label}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    .into_bytes()
}

/// Fills a migrated and seeded database (demo staff accounts included: one county account per
/// district and a city account). Refuses a database that already has groups.
pub async fn generate(
    db: &Db,
    files: &FileStore,
    keys: &crate::keys::KeyRing,
    o: &Options,
    progress: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let pool = &db.pool;
    let mut rng = StdRng::seed_from_u64(o.seed);
    let existing = bulk::count_groups(pool).await?;
    anyhow::ensure!(
        existing == 0,
        "the database already has {existing} groups: generate into a fresh database"
    );
    anyhow::ensure!(o.units > 0, "--units must be at least 1");

    // Reference data and the staff who act.
    let districts = reference::districts(pool).await?;
    anyhow::ensure!(
        !districts.is_empty(),
        "no districts: run the migrations first"
    );
    let staff_users = users::staff(pool).await?;
    let actor_of = |u: &users::User| Actor {
        user_id: Some(u.id),
        label: format!("{}（{}）", u.display_name, u.login_id),
        ip: format!("10.32.1.{}", 10 + u.id % 200),
    };
    let mut county = Vec::new();
    for d in &districts {
        let u = staff_users
            .iter()
            .find(|u| u.role == Role::County && u.district_id == Some(d.id) && !u.disabled)
            .with_context(|| {
                format!("no county account for {}: create the demo accounts", d.name)
            })?;
        county.push(actor_of(u));
    }
    let city_user = staff_users
        .iter()
        .find(|u| u.role == Role::City && !u.disabled)
        .context("no city account: create the demo accounts")?;
    let staff = Staff {
        county,
        city: actor_of(city_user),
    };
    let lists = refs::lists(pool).await?;
    let ports: Vec<i64> = refs::ports(pool).await?.iter().map(|p| p.id).collect();
    let nationalities: Vec<String> = lists
        .nationalities()
        .iter()
        .map(|c| c.alpha3.clone())
        .collect();
    anyhow::ensure!(
        !nationalities.is_empty() && !lists.missions.is_empty() && !ports.is_empty(),
        "reference data missing"
    );
    let common: Vec<(&str, u32)> = COMMON_NATIONALITIES
        .iter()
        .copied()
        .filter(|(c, _)| nationalities.iter().any(|n| n == c))
        .collect();
    let common_total: u32 = common.iter().map(|(_, w)| w).sum();
    let mut missions_of: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for m in &lists.missions {
        missions_of.entry(&m.host_alpha3).or_default().push(m.id);
    }
    let purposes: Vec<String> = lists.purposes.iter().map(|c| c.code.clone()).collect();
    let bearers: Vec<String> = lists.cost_bearers.iter().map(|c| c.code.clone()).collect();
    let country_names: BTreeMap<&str, &str> = lists
        .countries
        .iter()
        .map(|c| (c.alpha3.as_str(), c.name_zh.as_str()))
        .collect();

    let now = o.now;
    let start = now - o.years * 36525 * DAY / 100;
    let span = now - start;

    // The files every scan and letter point at (one each: contents do not matter here).
    let mut file_ids = Vec::new();
    {
        let mut tx = db.begin().await?;
        for (name, label) in [(SCAN_NAME, "scan"), (LETTER_NAME, "letter")] {
            let bytes = tiny_pdf(label);
            let sha = crate::workflow::files::put_in_transaction(tx.conn(), files, &bytes).await?;
            file_ids.push(
                reference::insert_file(
                    tx.conn(),
                    &sha,
                    bytes.len() as i64,
                    "application/pdf",
                    name,
                    None,
                    start,
                )
                .await?,
            );
        }
        tx.commit().await?;
    }
    let (scan_file, letter_file) = (file_ids[0], file_ids[1]);

    // ---- units, through the store functions of registration and review ----
    let hash = crate::security::hash_password(UNIT_PASSWORD)?;
    let mut timeline = Timeline {
        heap: BinaryHeap::new(),
        order: 0,
    };
    let mut units_info: Vec<UnitInfo> = Vec::with_capacity(o.units);
    let t_units = Instant::now();
    let mut tx = db.begin().await?;
    for n in 0..o.units {
        if n > 0 && n % 1000 == 0 {
            tx.commit().await?;
            tx = db.begin().await?;
            progress(format!("units: {n}/{}", o.units));
        }
        let a = n % FIRM_A.len();
        let b = (n / FIRM_A.len()) % FIRM_B.len();
        let k = (n / (FIRM_A.len() * FIRM_B.len())) % FIRM_KIND.len();
        let round = n / (FIRM_A.len() * FIRM_B.len() * FIRM_KIND.len());
        let district = n % districts.len();
        let dshort = districts[district]
            .name
            .trim_end_matches(['区', '市'])
            .to_string();
        let extra = if round > 0 {
            format!("第{}", round + 1)
        } else {
            String::new()
        };
        let name = format!(
            "常州{}{}{}{}{}",
            if n % 3 == 0 { dshort.as_str() } else { "" },
            FIRM_A[a].0,
            FIRM_B[b].0,
            extra,
            FIRM_KIND[k].0
        );
        let english_name = format!(
            "Changzhou {}{}{} {}",
            FIRM_A[a].1,
            if FIRM_B[b].1.is_empty() { "" } else { " " },
            FIRM_B[b].1,
            FIRM_KIND[k].1
        ) + &if round > 0 {
            format!(" No.{}", round + 1)
        } else {
            String::new()
        };
        let first17 = format!("91320411{:09}", 100_000 + n);
        let check = crate::domain::credit_code::check_char(&first17).context("credit code")?;
        let contact = format!(
            "{}{}",
            pick(&mut rng, CN_SURNAMES),
            pick(&mut rng, CN_GIVEN)
        );
        let mobile = format!(
            "1{}{:09}",
            [3, 5, 8, 9][n % 4],
            (n as u64 * 7_919 + 1) % 1_000_000_000
        );
        let data = RegData {
            name,
            english_name,
            credit_code: format!("{first17}{check}"),
            district_id: districts[district].id,
            address: format!(
                "常州市{}{}{}号",
                districts[district].name,
                pick(&mut rng, ROADS),
                rng.gen_range(1..999)
            ),
            unit_type: FIRM_KIND[k].2.to_string(),
            legal_rep: format!(
                "{}{}",
                pick(&mut rng, CN_SURNAMES),
                pick(&mut rng, CN_GIVEN)
            ),
            contact_name: contact.clone(),
            landline: format!("0519-8{:07}", rng.gen_range(0..10_000_000)),
            email: format!(
                "fao{n}@{}.com.cn",
                FIRM_A[a].1.to_lowercase().replace('\'', "")
            ),
        };
        // The first ten are long-standing approved units (benchmarks sign in as synth00001).
        let r: f64 = rng.gen();
        let target = if n < 10 || r < 0.92 {
            RegState::Approved
        } else if r < 0.95 {
            RegState::PendingCounty
        } else if r < 0.97 {
            RegState::PendingCity
        } else if r < 0.99 {
            RegState::Returned
        } else {
            RegState::Draft
        };
        let created = match target {
            RegState::Approved if n < 10 || rng.gen_bool(0.85) => {
                start - rng.gen_range(30 * DAY..3 * 365 * DAY)
            }
            RegState::Approved => start + rng.gen_range(0..span * 9 / 10),
            _ => now - rng.gen_range(HOUR..20 * DAY),
        };
        let login =
            LoginId::parse(&format!("synth{:05}", n + 1)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let unit_id = units::insert(tx.conn(), &data, &mobile, created).await?;
        let user_id = users::insert(
            tx.conn(),
            &NewUser {
                role: Role::Unit,
                login_id: login.as_str(),
                login_key: &login.key(),
                password_hash: &hash,
                display_name: &contact,
                unit_id: Some(unit_id),
                district_id: None,
                must_change_password: false,
            },
            created,
        )
        .await?;
        let idx = units_info.len();
        units_info.push(UnitInfo {
            id: unit_id,
            user: Actor {
                user_id: Some(user_id),
                label: format!("{contact}（{}）", login.as_str()),
                ip: format!("58.216.{}.{}", n / 250 % 250, n % 250 + 1),
            },
            district,
            district_id: districts[district].id,
            approved_at: None,
            contact: (contact.clone(), mobile.clone()),
            name: data.name.clone(),
        });
        timeline.push(created, idx, What::UnitCreate);
        if target == RegState::Draft {
            continue;
        }
        let submitted = (created + rng.gen_range(HOUR..2 * DAY)).min(now - 60);
        units::submit(tx.conn(), unit_id, submitted).await?;
        timeline.push(submitted, idx, What::UnitSubmit);
        if target == RegState::PendingCounty {
            continue;
        }
        let reviewed = (submitted + rng.gen_range(HOUR..3 * DAY)).min(now - 30);
        let county = |to, reason| Decision {
            from: RegState::PendingCounty,
            to,
            district: Some(districts[district].id),
            reason,
        };
        if target == RegState::Returned {
            let reason = rng.gen_range(0..2u8);
            let d = county(RegState::Returned, Some(RETURN_REASONS[reason as usize]));
            units::review(tx.conn(), unit_id, &d, reviewed).await?;
            timeline.push(reviewed, idx, What::UnitCountyReturn(reason));
            continue;
        }
        let d = county(RegState::PendingCity, None);
        units::review(tx.conn(), unit_id, &d, reviewed).await?;
        timeline.push(reviewed, idx, What::UnitCounty);
        if target == RegState::PendingCity {
            continue;
        }
        let approved = (reviewed + rng.gen_range(HOUR..3 * DAY)).min(now - 10);
        let d = Decision {
            from: RegState::PendingCity,
            to: RegState::Approved,
            district: None,
            reason: None,
        };
        units::review(tx.conn(), unit_id, &d, approved).await?;
        timeline.push(approved, idx, What::UnitCity);
        units_info[idx].approved_at = Some(approved);
        if n >= 10 && rng.gen_bool(0.003) {
            units::set_blacklist(
                tx.conn(),
                unit_id,
                Some("列入失信企业名单（合成数据）"),
                approved + DAY,
            )
            .await?;
        }
    }
    tx.commit().await?;
    progress(format!(
        "units: {} in {:.1} s",
        o.units,
        t_units.elapsed().as_secs_f64()
    ));

    let approved: Vec<usize> = (0..units_info.len())
        .filter(|&i| units_info[i].approved_at.is_some())
        .collect();
    let ctx = Ctx {
        units: units_info,
        staff,
        now,
        seed: o.seed,
    };

    // ---- groups ----
    let mut created: Vec<i64> = (0..o.groups)
        .map(|_| start + rng.gen_range(0..span))
        .collect();
    // A busier recent month, so that small runs have groups in review too.
    let recent = (o.groups * 3 / 1000).max(40).min(o.groups);
    for t in created.iter_mut().take(recent) {
        *t = now - rng.gen_range(HOUR..30 * DAY);
    }
    created.sort_unstable();

    let mut conn0 = pool.acquire().await?;
    let mut next_group = bulk::max_id(&mut conn0, BulkTable::Groups).await? + 1;
    let mut next_visitor = bulk::max_id(&mut conn0, BulkTable::Visitors).await? + 1;
    let mut next_record = bulk::max_id(&mut conn0, BulkTable::Records).await? + 1;
    drop(conn0);
    let mut group_seq: BTreeMap<i64, i64> = BTreeMap::new();
    let mut accept_seq: BTreeMap<i64, i64> = BTreeMap::new();
    {
        let mut tx = db.begin().await?;
        for y in year_of(start)..=year_of(now) {
            group_seq.insert(y, groups::sequence_value(tx.conn(), "group", y).await?);
            accept_seq.insert(y, groups::sequence_value(tx.conn(), "acceptance", y).await?);
        }
        tx.commit().await?;
    }
    let mut recent_visitors: Vec<VisitorData> = Vec::new();
    let mut visitor_counter: u64 = o.seed % 1000;
    let mut overdue: Vec<i64> = Vec::new();
    let mut sample_group: Option<(i64, String)> = None;
    let t_groups = Instant::now();
    let mut done = 0usize;
    for batch in created.chunks(o.batch.max(1)) {
        let mut g_rows: Vec<ImportGroup> = Vec::with_capacity(batch.len());
        let mut v_rows: Vec<ImportVisitor> = Vec::with_capacity(batch.len() * 3);
        let mut r_rows: Vec<ImportRecord> = Vec::new();
        // 取消邀请 of dispatched groups: (group, reason, when), recorded once their visitors are in.
        let mut cancellations: Vec<(i64, &'static str, i64)> = Vec::new();
        for &t0 in batch {
            // The unit: a few busy ones, a long tail of occasional ones.
            let mut unit = 0usize;
            for _ in 0..8 {
                let u: f64 = rng.gen();
                let i = approved[((approved.len() as f64) * u.powf(1.5)) as usize];
                if ctx.units[i].approved_at.is_some_and(|a| a + DAY < t0) {
                    unit = i;
                    break;
                }
            }
            let ui = &ctx.units[unit];
            let id = next_group;
            next_group += 1;
            let year = year_of(t0);
            let seq = group_seq.entry(year).or_insert(0);
            *seq += 1;
            let number = Sequence::Group.format(year as i32, *seq);

            // Visitors: 1–5, mostly of one nationality; some came before.
            let n_visitors = match rng.gen_range(0..100) {
                0..=34 => 1,
                35..=59 => 2,
                60..=77 => 3,
                78..=89 => 4,
                _ => 5,
            };
            let main_nat = if rng.gen_bool(0.8) && common_total > 0 {
                let mut w = rng.gen_range(0..common_total);
                let mut nat = common[0].0;
                for (c, cw) in &common {
                    if w < *cw {
                        nat = c;
                        break;
                    }
                    w -= cw;
                }
                nat.to_string()
            } else {
                pick(&mut rng, &nationalities).clone()
            };
            let arrival = date_of(t0 + rng.gen_range(20..90) * DAY);
            let departure = arrival + chrono::Days::new(rng.gen_range(2..21));
            let mut vdata: Vec<VisitorData> = Vec::with_capacity(n_visitors);
            let employer = pick(&mut rng, EMPLOYERS).to_string();
            for _ in 0..n_visitors {
                if !recent_visitors.is_empty() && rng.gen_bool(0.12) {
                    let v = pick(&mut rng, &recent_visitors).clone();
                    if v.passport_expiry > departure
                        && !vdata.iter().any(|x| x.passport_no == v.passport_no)
                    {
                        vdata.push(v);
                        continue;
                    }
                }
                let nat = if rng.gen_bool(0.85) {
                    main_nat.clone()
                } else {
                    pick(&mut rng, &nationalities).clone()
                };
                let names = names_for(&nat);
                let male = rng.gen_bool(0.7);
                let given = if male {
                    pick(&mut rng, names.1)
                } else {
                    pick(&mut rng, names.2)
                };
                visitor_counter += 1;
                // Unique (a bijection of the counter) and looking random.
                let digits = (visitor_counter.wrapping_mul(2_654_435_761) + o.seed) % 100_000_000;
                let prefix = match nat.as_str() {
                    "USA" | "GBR" | "CAN" | "AUS" => String::new(),
                    "JPN" => "TK".into(),
                    "KOR" => "M".into(),
                    "DEU" => "C".into(),
                    "FRA" => "19".into(),
                    "RUS" => "75".into(),
                    other => other[..1].to_string(),
                };
                let v = VisitorData {
                    surname: if rng.gen_bool(0.03) {
                        String::new()
                    } else {
                        pick(&mut rng, names.0).to_string()
                    },
                    given_name: given.to_string(),
                    sex: if male { "M" } else { "F" }.into(),
                    birth_date: NaiveDate::from_ymd_opt(
                        rng.gen_range(1958..2002),
                        rng.gen_range(1..13),
                        rng.gen_range(1..29),
                    )
                    .unwrap_or_default(),
                    employer_country: nat.clone(),
                    employer_city: employer_city(&nat).to_string(),
                    employer_address: format!(
                        "{} Industrial Park, Building {}",
                        employer_city(&nat),
                        digits % 40 + 1
                    ),
                    // Set from the group's purpose and dates below.
                    visa_type: String::new(),
                    stay_days: None,
                    nationality: nat,
                    passport_no: format!("{prefix}{digits:08}"),
                    passport_expiry: departure + chrono::Days::new(rng.gen_range(200..3600)),
                    employer: if rng.gen_bool(0.9) {
                        employer.clone()
                    } else {
                        pick(&mut rng, EMPLOYERS).to_string()
                    },
                    position: pick(&mut rng, POSITIONS).to_string(),
                };
                if recent_visitors.len() < 5000 {
                    recent_visitors.push(v.clone());
                } else {
                    let i = rng.gen_range(0..recent_visitors.len());
                    recent_visitors[i] = v.clone();
                }
                vdata.push(v);
            }
            let nat_name = country_names
                .get(vdata[0].nationality.as_str())
                .copied()
                .unwrap_or("外国");
            let mission_id = match missions_of.get(vdata[0].nationality.as_str()) {
                Some(ms) if !ms.is_empty() => *pick(&mut rng, ms),
                _ => pick(&mut rng, &lists.missions).id,
            };
            let (entry_type, ground) = match rng.gen_range(0..100) {
                0..=84 => (EntryType::Single, None),
                85..=94 => (
                    EntryType::HalfYear,
                    Some([Ground::LegalRepInvesting, Ground::Entries5][rng.gen_range(0..2)]),
                ),
                _ => (
                    EntryType::OneYear,
                    Some([Ground::LegalRepInvesting, Ground::Entries10][rng.gen_range(0..2)]),
                ),
            };
            let data = GroupData {
                name: format!("{nat_name}{}团", pick(&mut rng, TOPICS)),
                purpose: pick(&mut rng, &purposes).clone(),
                arrival,
                departure,
                places: pick(&mut rng, PLACES).to_string(),
                cost_bearer: pick(&mut rng, &bearers).clone(),
                mission_id,
                entry_type,
                ground,
                contact_name: ui.contact.0.clone(),
                contact_phone: ui.contact.1.clone(),
                remarks: if rng.gen_bool(0.1) {
                    "行程以邀请单位安排为准。".into()
                } else {
                    String::new()
                },
                // Without drawing from `rng`, so that the rest of the data stays as it was.
                size: Some(vdata.len() as i64 + id % 3),
                itinerary: itinerary_of(arrival, departure, ui.name.as_str()),
            };
            let visa = group_fields::default_visa_type(&data.purpose).unwrap_or("F");
            let stay = group_fields::planned_days(arrival, departure).max(30);
            for v in &mut vdata {
                v.visa_type = visa.to_string();
                v.stay_days = Some(stay.min(group_fields::max_stay(data.entry_type.multiple())));
            }
            let dhash = data_hash(&data, &vdata);
            let short: Box<str> = dhash[..16].into();
            let num: Box<str> = number.as_str().into();

            // Its history, up to now.
            let mut g = ImportGroup {
                id,
                unit_id: ui.id,
                district_id: ui.district_id,
                number: number.clone(),
                state: GroupState::Draft,
                data,
                data_hash: dhash.clone(),
                printed_hash: None,
                scan_file_id: None,
                scan_hash: None,
                return_reason: None,
                returned_by: None,
                acceptance_no: None,
                verification_no: None,
                letter_file_id: None,
                submitted_at: None,
                county_passed_at: None,
                accepted_at: None,
                reported_at: None,
                dispatched_at: None,
                created_at: t0,
                updated_at: t0,
            };
            timeline.push(t0, unit, What::GroupCreate(id, num.clone()));
            // Each step is taken as the group's table allows (domain::group_flow): the state it
            // leads to and who takes it come from there.
            let mut step = |g: &mut ImportGroup, at: i64, action: GroupAction, value: String| {
                let rule = group_flow::TABLE
                    .iter()
                    .find(|r| r.from == g.state && r.action == action)
                    .ok_or_else(|| anyhow::anyhow!("{action:?} from {:?}", g.state))?;
                g.state = rule.to;
                g.updated_at = at;
                timeline.push(
                    at,
                    unit,
                    What::Group {
                        id,
                        number: num.clone(),
                        action,
                        by: rule.by,
                        value: value.into(),
                    },
                );
                anyhow::Ok(())
            };
            let mut t = t0;
            let abandon = rng.gen_bool(0.03);
            for cycle in 0..3 {
                let printed = t + rng.gen_range(600..2 * DAY);
                if printed > now || (cycle == 0 && abandon) {
                    break;
                }
                if cycle == 0 {
                    step(&mut g, printed, GroupAction::Print, short.to_string())?;
                }
                g.printed_hash = Some(dhash.clone());
                g.updated_at = printed;
                let submitted = printed + rng.gen_range(600..DAY);
                if submitted > now {
                    break;
                }
                g.scan_file_id = Some(scan_file);
                g.scan_hash = Some(dhash.clone());
                g.submitted_at = Some(submitted);
                g.return_reason = None;
                g.returned_by = None;
                step(&mut g, submitted, GroupAction::Submit, String::new())?;
                let county_at = submitted + rng.gen_range(2 * HOUR..4 * DAY);
                if rng.gen_bool(0.03) {
                    // 【撤回】 before the county acted; left withdrawn.
                    let withdrawn = submitted + rng.gen_range(600..2 * HOUR);
                    if withdrawn <= now {
                        step(&mut g, withdrawn, GroupAction::Withdraw, String::new())?;
                    }
                    break;
                }
                if county_at > now {
                    break;
                }
                let returned = |rng: &mut StdRng, p: f64| cycle < 2 && rng.gen_bool(p);
                if returned(&mut rng, 0.06) {
                    let reason =
                        RETURN_REASONS[rng.gen_range(0..RETURN_REASONS.len() as u8) as usize];
                    g.return_reason = Some(reason.into());
                    g.returned_by = Some(Role::County.office().into());
                    step(&mut g, county_at, GroupAction::CountyReturn, reason.into())?;
                    if rng.gen_bool(0.3) {
                        break;
                    }
                    t = county_at;
                    continue;
                }
                g.county_passed_at = Some(county_at);
                step(&mut g, county_at, GroupAction::CountyApprove, String::new())?;
                let city_at = county_at + rng.gen_range(2 * HOUR..4 * DAY);
                if city_at > now {
                    break;
                }
                if returned(&mut rng, 0.04) {
                    let reason =
                        RETURN_REASONS[rng.gen_range(0..RETURN_REASONS.len() as u8) as usize];
                    g.return_reason = Some(reason.into());
                    g.returned_by = Some(Role::City.office().into());
                    step(&mut g, city_at, GroupAction::CityReturn, reason.into())?;
                    if rng.gen_bool(0.3) {
                        break;
                    }
                    t = city_at;
                    continue;
                }
                let ay = year_of(city_at);
                let aseq = accept_seq.entry(ay).or_insert(0);
                *aseq += 1;
                let acc = Sequence::Acceptance.format(ay as i32, *aseq);
                g.accepted_at = Some(city_at);
                g.acceptance_no = Some(acc.clone());
                step(&mut g, city_at, GroupAction::Accept, acc)?;
                let report_at = city_at + rng.gen_range(HOUR..4 * DAY);
                if report_at > now {
                    break;
                }
                let ver = format!("WJ{}{:08}", year_of(report_at), id);
                g.reported_at = Some(report_at);
                g.verification_no = Some(ver.clone());
                step(&mut g, report_at, GroupAction::Report, ver)?;
                let dispatch_at = report_at + rng.gen_range(DAY..10 * DAY);
                if dispatch_at > now {
                    break;
                }
                g.dispatched_at = Some(dispatch_at);
                g.letter_file_id = Some(letter_file);
                step(
                    &mut g,
                    dispatch_at,
                    GroupAction::Dispatch,
                    LETTER_NAME.to_string(),
                )?;
                let cancel_at = dispatch_at + rng.gen_range(HOUR..5 * DAY);
                if cancel_at <= now && rng.gen_bool(0.04) {
                    let reason = *pick(&mut rng, CANCEL_REASONS);
                    step(&mut g, cancel_at, GroupAction::Cancel, reason.to_string())?;
                    cancellations.push((id, reason, cancel_at));
                }
                break;
            }

            // Visitors and, for dispatched groups, their post-visit registrations.
            let arrival_ts = day_start(arrival) + 10 * HOUR;
            let departure_ts = day_start(departure) + 16 * HOUR;
            for (i, v) in vdata.into_iter().enumerate() {
                let vid = next_visitor;
                next_visitor += 1;
                if g.state == GroupState::Dispatched {
                    let dispatched = g.dispatched_at.unwrap_or(t0);
                    let name: Box<str> = v.full_name().into();
                    let cancelled = rng.gen_bool(0.04);
                    let reg_at = departure_ts + rng.gen_range(HOUR..20 * DAY);
                    let first_save = if cancelled {
                        (arrival_ts - rng.gen_range(DAY..5 * DAY)).max(dispatched + HOUR)
                    } else {
                        arrival_ts.max(dispatched + HOUR) + rng.gen_range(HOUR..2 * DAY)
                    };
                    let forgets = departure_ts > now - 120 * DAY && rng.gen_bool(0.03);
                    let entry_date = date_of(first_save.min(arrival_ts.max(dispatched + HOUR)));
                    let exit_date = date_of(departure_ts).max(entry_date);
                    let travelled_exit = VisitData::Travelled {
                        entry_date,
                        entry_port: *pick(&mut rng, &ports),
                        exit: Some((exit_date, *pick(&mut rng, &ports))),
                    };
                    let data = if cancelled {
                        VisitData::Cancelled {
                            reason: pick(&mut rng, CANCEL_REASONS).to_string(),
                        }
                    } else {
                        travelled_exit
                    };
                    let rid = next_record;
                    let mut rec = ImportRecord {
                        id: rid,
                        visitor_id: vid,
                        group_id: id,
                        unit_id: ui.id,
                        district_id: ui.district_id,
                        state: VisitState::Draft,
                        data,
                        submitted_at: None,
                        county_passed_at: None,
                        completed_at: None,
                        created_at: first_save,
                        updated_at: first_save,
                    };
                    if first_save > now {
                        // Not started yet.
                        if departure_ts < now - 30 * DAY {
                            overdue.push(vid);
                        }
                    } else if reg_at > now || forgets {
                        // Entered, exit not registered yet (or forgotten: overdue).
                        if let VisitData::Travelled { exit, .. } = &mut rec.data {
                            *exit = None;
                        }
                        rec.state = if matches!(rec.data, VisitData::Cancelled { .. }) {
                            VisitState::Draft
                        } else {
                            VisitState::Entered
                        };
                        timeline.push(first_save, unit, What::VisitSave(rid));
                        if forgets && departure_ts < now - 30 * DAY {
                            overdue.push(vid);
                        }
                        next_record += 1;
                        r_rows.push(rec);
                    } else {
                        timeline.push(first_save, unit, What::VisitSave(rid));
                        timeline.push(reg_at, unit, What::VisitSubmit(rid));
                        rec.state = VisitState::PendingCounty;
                        rec.submitted_at = Some(reg_at);
                        rec.updated_at = reg_at;
                        let c = reg_at + rng.gen_range(2 * HOUR..4 * DAY);
                        if c <= now {
                            rec.state = VisitState::PendingCity;
                            rec.county_passed_at = Some(c);
                            rec.updated_at = c;
                            timeline.push(
                                c,
                                unit,
                                What::VisitCounty(rid, name.clone(), num.clone()),
                            );
                            let d = c + rng.gen_range(2 * HOUR..4 * DAY);
                            if d <= now {
                                rec.state = VisitState::Completed;
                                rec.completed_at = Some(d);
                                rec.updated_at = d;
                                timeline.push(d, unit, What::VisitComplete(rid, name, num.clone()));
                            }
                        }
                        next_record += 1;
                        r_rows.push(rec);
                    }
                    if unit == 0 {
                        sample_group = Some((id, v.passport_no.clone()));
                    }
                }
                v_rows.push(ImportVisitor {
                    id: vid,
                    group_id: id,
                    seq: i as i64 + 1,
                    data: v,
                });
            }
            g_rows.push(g);
        }
        let until = batch.last().copied().unwrap_or(now);
        let due = timeline.take_until(until);
        let mut tx = db.begin().await?;
        groups::import(tx.conn(), &g_rows).await?;
        groups::import_visitors(tx.conn(), keys, &v_rows).await?;
        let plans: Vec<(i64, &[ItineraryRow])> = g_rows
            .iter()
            .map(|g| (g.id, g.data.itinerary.as_slice()))
            .collect();
        crate::store::itinerary::import(tx.conn(), &plans).await?;
        visits::import(tx.conn(), &r_rows).await?;
        for (gid, reason, at) in &cancellations {
            crate::store::group_paths::record_cancellation(
                tx.conn(),
                *gid,
                reason,
                "申请单位",
                None,
                *at,
            )
            .await?;
        }
        write_events(tx.conn(), &ctx, due).await?;
        tx.commit().await?;
        done += batch.len();
        let secs = t_groups.elapsed().as_secs_f64();
        progress(format!(
            "groups: {done}/{} ({:.0} groups/s, {} steps queued)",
            o.groups,
            done as f64 / secs.max(0.001),
            timeline.heap.len()
        ));
    }

    // What is left of the history (the units' steps when there are few groups).
    let rest = timeline.take_until(i64::MAX);
    let mut tx = db.begin().await?;
    write_events(tx.conn(), &ctx, rest).await?;
    // Reminders already sent for the overdue visitors, so that the server's first run of the
    // overdue job does not send thousands at start-up.
    for vid in &overdue {
        visits::claim_reminder(tx.conn(), *vid, now - DAY, 7 * DAY).await?;
    }
    for (y, v) in &group_seq {
        groups::raise_sequence(tx.conn(), "group", *y, *v).await?;
    }
    for (y, v) in &accept_seq {
        groups::raise_sequence(tx.conn(), "acceptance", *y, *v).await?;
    }
    if db.backend == Backend::Postgres {
        // Ids were chosen here: move the sequences past them.
        bulk::advance_id_sequences(tx.conn()).await?;
    }
    visits::refresh_unregistered_all(tx.conn()).await?;
    tx.commit().await?;
    // Statistics for the planner; on PostgreSQL also the visibility map, without which the
    // bulk-loaded tables' index-only scans would still visit every heap page until autovacuum
    // got round to them (during the measurements).
    let mut conn = pool.acquire().await?;
    progress(match db.backend {
        Backend::Postgres => "vacuuming and analyzing".into(),
        _ => "analyzing".into(),
    });
    bulk::analyze(&mut conn, db.backend == Backend::Postgres).await?;
    drop(conn);

    // Summary.
    let mut summary = Summary {
        seconds: started.elapsed().as_secs_f64(),
        unit_login: "synth00001".into(),
        county_login: String::new(),
        city_login: city_user.login_id.clone(),
        ..Summary::default()
    };
    summary.tables = bulk::table_counts(pool).await?;
    for s in GroupState::ALL {
        let n = bulk::groups_in_state(pool, s).await?;
        summary.states.push((s.as_str().into(), n));
    }
    let first = &ctx.units[0];
    summary.unit_groups = bulk::groups_of_unit(pool, first.id).await?;
    let county_id = ctx.staff.county[first.district].user_id;
    summary.county_login = staff_users
        .iter()
        .find(|u| Some(u.id) == county_id)
        .map(|u| u.login_id.clone())
        .unwrap_or_default();
    if let Some((g, p)) = sample_group {
        summary.dispatched_group = g;
        summary.passport = p;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
