//! Reference data (参考数据): countries and regions, PRC missions abroad, China's ports of
//! entry, purposes of visits (来华事由) and who bears the costs.
//!
//! The data lives in `refdata/*.tsv` (UTF-8, tab-separated, header line first; sources
//! and caveats in `refdata/README.md`). The files are embedded at compile time and
//! parsed once, on first use. Parsing never panics: a malformed line is skipped, and the
//! unit tests below assert that no line is malformed, so nothing is skipped in practice.

use std::sync::OnceLock;

const COUNTRIES_TSV: &str = include_str!("../refdata/countries.tsv");
const MISSIONS_TSV: &str = include_str!("../refdata/missions.tsv");
const PORTS_TSV: &str = include_str!("../refdata/ports.tsv");
const PURPOSES_TSV: &str = include_str!("../refdata/purposes.tsv");
const COST_BEARERS_TSV: &str = include_str!("../refdata/cost_bearers.tsv");
const ADDITIONS_TSV: &str = include_str!("../refdata/additions.tsv");
const VISA_TYPES_TSV: &str = include_str!("../refdata/visa_types.tsv");

/// A country or region of ISO 3166-1, with its Chinese short name after GB/T 2659.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country {
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub alpha2: &'static str,
    /// ISO 3166-1 alpha-3, e.g. `USA`.
    pub alpha3: &'static str,
    /// ISO 3166-1 numeric, three digits with leading zeros, e.g. `840`.
    pub numeric: &'static str,
    /// Chinese short name, e.g. `美国`.
    pub name_zh: &'static str,
    /// English short name, e.g. `United States`.
    pub name_en: &'static str,
}

/// The kind of a PRC mission abroad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MissionKind {
    Embassy,
    ConsulateGeneral,
    Consulate,
    /// Commissioner's offices in Hong Kong and Macao, the office to Palestine, the chargé
    /// d'affaires office in Lithuania, consular offices and similar.
    Office,
}

impl MissionKind {
    pub const ALL: [MissionKind; 4] = [
        MissionKind::Embassy,
        MissionKind::ConsulateGeneral,
        MissionKind::Consulate,
        MissionKind::Office,
    ];

    /// The code used in `missions.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            MissionKind::Embassy => "embassy",
            MissionKind::ConsulateGeneral => "consulate_general",
            MissionKind::Consulate => "consulate",
            MissionKind::Office => "office",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            MissionKind::Embassy => "大使馆",
            MissionKind::ConsulateGeneral => "总领事馆",
            MissionKind::Consulate => "领事馆",
            MissionKind::Office => "办事处",
        }
    }

    /// Inverse of [`MissionKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A PRC mission abroad where visas are applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mission {
    /// ISO alpha-3 of the country or region where the mission is.
    pub host_alpha3: &'static str,
    pub kind: MissionKind,
    /// Name in MFA short form, e.g. `中国驻纽约总领事馆`.
    pub name_zh: &'static str,
    /// City where the mission is, e.g. `纽约`.
    pub city_zh: &'static str,
}

/// The kind of a port of entry, after the four kinds of the official list of open ports
/// (航空、水运、铁路、公路口岸).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortKind {
    Air,
    /// Road crossings (公路口岸); the code `land` is kept from before rail ports had a kind.
    Land,
    Rail,
    /// Sea and river ports.
    Sea,
}

impl PortKind {
    pub const ALL: [PortKind; 4] = [PortKind::Air, PortKind::Sea, PortKind::Rail, PortKind::Land];

    /// The code used in `ports.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortKind::Air => "air",
            PortKind::Land => "land",
            PortKind::Rail => "rail",
            PortKind::Sea => "sea",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            PortKind::Air => "航空",
            PortKind::Land => "公路",
            PortKind::Rail => "铁路",
            PortKind::Sea => "水运",
        }
    }

    /// Inverse of [`PortKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A port of entry (口岸) open to foreigners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Port {
    pub name_zh: &'static str,
    pub kind: PortKind,
    /// Full province-level name, e.g. `江苏省`, `广西壮族自治区`.
    pub province_zh: &'static str,
}

/// An entry added to `ports.tsv` or `missions.tsv` after databases were first seeded from
/// them: databases seeded before receive it once (see `store::refs::seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Addition {
    /// The reference-data level that added it (1, 2, …); a database records the level it has.
    pub level: i64,
    /// `ports` or `missions`.
    pub list: &'static str,
    pub name_zh: &'static str,
}

/// A port whose kind was corrected at a level: databases seeded before have it changed, unless
/// an administrator changed the kind since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reclassified {
    pub level: i64,
    pub name_zh: &'static str,
    pub from: PortKind,
    pub to: PortKind,
}

/// Kinds corrected since the first seed: 凭祥铁路口岸 was filed as a land port before rail
/// ports had their own kind.
pub const RECLASSIFIED: &[Reclassified] = &[Reclassified {
    level: 1,
    name_zh: "凭祥铁路口岸",
    from: PortKind::Land,
    to: PortKind::Rail,
}];

/// A code with its Chinese name (purposes of visits, cost bearers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Coded {
    pub code: &'static str,
    pub name_zh: &'static str,
}

/// The data lines of a TSV file (header and empty lines dropped), split into exactly `N`
/// non-empty fields; lines with another number of fields are skipped.
fn records<const N: usize>(text: &'static str) -> impl Iterator<Item = [&'static str; N]> {
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let mut out = [""; N];
            let mut fields = line.split('\t');
            for slot in out.iter_mut() {
                *slot = fields.next()?;
            }
            if fields.next().is_some() || out.iter().any(|f| f.is_empty()) {
                return None;
            }
            Some(out)
        })
}

/// All ISO 3166-1 countries and regions (249 entries, China included), ordered by alpha-3.
pub fn countries() -> &'static [Country] {
    static DATA: OnceLock<Vec<Country>> = OnceLock::new();
    DATA.get_or_init(|| {
        records::<5>(COUNTRIES_TSV)
            .map(|[alpha2, alpha3, numeric, name_zh, name_en]| Country {
                alpha2,
                alpha3,
                numeric,
                name_zh,
                name_en,
            })
            .collect()
    })
}

/// PRC missions abroad, grouped by host country (alpha-3), embassy first.
pub fn missions() -> &'static [Mission] {
    static DATA: OnceLock<Vec<Mission>> = OnceLock::new();
    DATA.get_or_init(|| {
        records::<4>(MISSIONS_TSV)
            .filter_map(|[host_alpha3, kind, name_zh, city_zh]| {
                Some(Mission {
                    host_alpha3,
                    kind: MissionKind::parse(kind)?,
                    name_zh,
                    city_zh,
                })
            })
            .collect()
    })
}

/// China's ports of entry open to foreigners, grouped by kind and province.
pub fn ports() -> &'static [Port] {
    static DATA: OnceLock<Vec<Port>> = OnceLock::new();
    DATA.get_or_init(|| {
        records::<3>(PORTS_TSV)
            .filter_map(|[name_zh, kind, province_zh]| {
                Some(Port {
                    name_zh,
                    kind: PortKind::parse(kind)?,
                    province_zh,
                })
            })
            .collect()
    })
}

fn coded(text: &'static str) -> Vec<Coded> {
    records::<2>(text)
        .map(|[code, name_zh]| Coded { code, name_zh })
        .collect()
}

/// Purposes of visits (来华事由), in display order; `other` is last.
pub fn purposes() -> &'static [Coded] {
    static DATA: OnceLock<Vec<Coded>> = OnceLock::new();
    DATA.get_or_init(|| coded(PURPOSES_TSV))
}

/// Who bears the costs of a visit, in display order.
pub fn cost_bearers() -> &'static [Coded] {
    static DATA: OnceLock<Vec<Coded>> = OnceLock::new();
    DATA.get_or_init(|| coded(COST_BEARERS_TSV))
}

/// The entries added since the first seed (`additions.tsv`), in file order.
pub fn additions() -> &'static [Addition] {
    static DATA: OnceLock<Vec<Addition>> = OnceLock::new();
    DATA.get_or_init(|| {
        records::<3>(ADDITIONS_TSV)
            .filter_map(|[level, list, name_zh]| {
                Some(Addition {
                    level: level.parse().ok()?,
                    list,
                    name_zh,
                })
            })
            .collect()
    })
}

/// The reference-data level of the files in this binary: the highest level of an addition.
pub fn level() -> i64 {
    additions()
        .iter()
        .map(|a| a.level)
        .chain(RECLASSIFIED.iter().map(|r| r.level))
        .max()
        .unwrap_or(0)
}

/// The level at which the entry of `list` with this name was added (0: in the first seed).
pub fn added_at(list: &str, name_zh: &str) -> i64 {
    additions()
        .iter()
        .find(|a| a.list == list && a.name_zh == name_zh)
        .map_or(0, |a| a.level)
}

/// The sort number an entry of a list had in a database seeded at `level`: its position
/// among the entries that existed at that level (`None` when it did not exist then). The
/// files keep older entries in their relative order, so that this holds for every level.
pub fn sort_at<'a>(
    list: &str,
    names: impl IntoIterator<Item = &'a str>,
    level: i64,
) -> Vec<(&'a str, Option<i64>)> {
    let mut n = 0;
    names
        .into_iter()
        .map(|name| {
            if added_at(list, name) <= level {
                n += 1;
                (name, Some(n - 1))
            } else {
                (name, None)
            }
        })
        .collect()
}

/// Visa types (拟申请签证种类), in display order.
pub fn visa_types() -> &'static [Coded] {
    static DATA: OnceLock<Vec<Coded>> = OnceLock::new();
    DATA.get_or_init(|| coded(VISA_TYPES_TSV))
}

/// The country with this alpha-3 code (ASCII case-insensitive).
pub fn country_by_alpha3(alpha3: &str) -> Option<&'static Country> {
    countries()
        .iter()
        .find(|c| c.alpha3.eq_ignore_ascii_case(alpha3))
}

/// The country with this alpha-2 code (ASCII case-insensitive).
pub fn country_by_alpha2(alpha2: &str) -> Option<&'static Country> {
    countries()
        .iter()
        .find(|c| c.alpha2.eq_ignore_ascii_case(alpha2))
}

/// The missions in the country or region with this alpha-3 code (ASCII case-insensitive).
pub fn missions_in(host_alpha3: &str) -> impl Iterator<Item = &'static Mission> + '_ {
    missions()
        .iter()
        .filter(move |m| m.host_alpha3.eq_ignore_ascii_case(host_alpha3))
}

/// The mission with this exact Chinese name.
pub fn mission_by_name(name_zh: &str) -> Option<&'static Mission> {
    missions().iter().find(|m| m.name_zh == name_zh)
}

/// The port with this exact Chinese name.
pub fn port_by_name(name_zh: &str) -> Option<&'static Port> {
    ports().iter().find(|p| p.name_zh == name_zh)
}

/// The purpose with this code.
pub fn purpose(code: &str) -> Option<&'static Coded> {
    purposes().iter().find(|c| c.code == code)
}

/// The cost bearer with this code.
pub fn cost_bearer(code: &str) -> Option<&'static Coded> {
    cost_bearers().iter().find(|c| c.code == code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const FILES: [(&str, &str, &[&str]); 7] = [
        (
            "countries.tsv",
            COUNTRIES_TSV,
            &["alpha2", "alpha3", "numeric", "name_zh", "name_en"],
        ),
        (
            "missions.tsv",
            MISSIONS_TSV,
            &["host_alpha3", "kind", "name_zh", "city_zh"],
        ),
        ("ports.tsv", PORTS_TSV, &["name_zh", "kind", "province_zh"]),
        ("purposes.tsv", PURPOSES_TSV, &["code", "name_zh"]),
        ("cost_bearers.tsv", COST_BEARERS_TSV, &["code", "name_zh"]),
        (
            "additions.tsv",
            ADDITIONS_TSV,
            &["level", "list", "name_zh"],
        ),
        ("visa_types.tsv", VISA_TYPES_TSV, &["code", "name_zh"]),
    ];

    fn data_lines(text: &str) -> usize {
        text.lines().skip(1).count()
    }

    fn assert_unique<'a>(what: &str, values: impl IntoIterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for v in values {
            assert!(seen.insert(v), "duplicate {what}: {v}");
        }
    }

    #[test]
    fn files_are_well_formed() {
        for (name, text, header) in FILES {
            assert!(!text.starts_with('\u{feff}'), "{name}: BOM");
            assert!(!text.contains('\r'), "{name}: CR");
            assert!(text.ends_with('\n'), "{name}: no final newline");
            let mut lines = text.lines();
            assert_eq!(lines.next().unwrap(), header.join("\t"), "{name}: header");
            for (i, line) in lines.enumerate() {
                let n = i + 2;
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), header.len(), "{name}:{n}: columns: {line:?}");
                for f in fields {
                    assert!(!f.is_empty(), "{name}:{n}: empty field");
                    assert_eq!(f, f.trim(), "{name}:{n}: spaces around {f:?}");
                    assert!(!f.contains('"'), "{name}:{n}: quote in {f:?}");
                }
            }
        }
    }

    #[test]
    fn nothing_is_skipped() {
        assert_eq!(countries().len(), data_lines(COUNTRIES_TSV));
        assert_eq!(missions().len(), data_lines(MISSIONS_TSV));
        assert_eq!(ports().len(), data_lines(PORTS_TSV));
        assert_eq!(purposes().len(), data_lines(PURPOSES_TSV));
        assert_eq!(cost_bearers().len(), data_lines(COST_BEARERS_TSV));
        assert_eq!(additions().len(), data_lines(ADDITIONS_TSV));
    }

    #[test]
    fn counts() {
        assert_eq!(countries().len(), 249);
        assert!(missions().len() >= 250, "{}", missions().len());
        let of_kind = |k| ports().iter().filter(|p| p.kind == k).count();
        assert_eq!(
            PortKind::ALL.map(|k| (k.as_str(), of_kind(k))),
            [("air", 89), ("sea", 119), ("rail", 18), ("land", 80)]
        );
        assert_eq!(ports().len(), 306);
        let embassies = missions()
            .iter()
            .filter(|m| m.kind == MissionKind::Embassy)
            .count();
        assert!(embassies >= 170, "{embassies}");
        assert!((12..=16).contains(&purposes().len()));
        assert_eq!(cost_bearers().len(), 4);
    }

    #[test]
    fn countries_are_unique_and_well_coded() {
        let c = countries();
        assert_unique("alpha2", c.iter().map(|c| c.alpha2));
        assert_unique("alpha3", c.iter().map(|c| c.alpha3));
        assert_unique("numeric", c.iter().map(|c| c.numeric));
        assert_unique("name_zh", c.iter().map(|c| c.name_zh));
        assert_unique("name_en", c.iter().map(|c| c.name_en));
        for c in c {
            assert!(c.alpha2.len() == 2 && c.alpha2.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(c.alpha3.len() == 3 && c.alpha3.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(c.numeric.len() == 3 && c.numeric.bytes().all(|b| b.is_ascii_digit()));
            assert!(!c.name_zh.is_ascii(), "{}: name_zh", c.alpha3);
        }
    }

    #[test]
    fn gb_t_2659_names() {
        for (alpha3, zh) in [
            ("USA", "美国"),
            ("GBR", "英国"),
            ("DEU", "德国"),
            ("JPN", "日本"),
            ("KOR", "韩国"),
            ("PRK", "朝鲜"),
            ("RUS", "俄罗斯"),
            ("HKG", "中国香港"),
            ("MAC", "中国澳门"),
            ("TWN", "中国台湾"),
            ("CHN", "中国"),
            ("VNM", "越南"),
            ("LAO", "老挝"),
            ("IRN", "伊朗"),
            ("SYR", "叙利亚"),
            ("BOL", "玻利维亚"),
            ("VEN", "委内瑞拉"),
            ("TZA", "坦桑尼亚"),
            ("COG", "刚果（布）"),
            ("COD", "刚果（金）"),
            ("CIV", "科特迪瓦"),
            ("CPV", "佛得角"),
            ("MKD", "北马其顿"),
            ("SWZ", "斯威士兰"),
            ("CZE", "捷克"),
            ("MDA", "摩尔多瓦"),
            ("VAT", "梵蒂冈"),
            ("PSE", "巴勒斯坦"),
            ("TLS", "东帝汶"),
            ("KHM", "柬埔寨"),
            ("GTM", "危地马拉"),
            ("KGZ", "吉尔吉斯斯坦"),
            ("BGD", "孟加拉国"),
        ] {
            assert_eq!(country_by_alpha3(alpha3).unwrap().name_zh, zh, "{alpha3}");
        }
        assert_eq!(country_by_alpha2("us").unwrap().alpha3, "USA");
        assert_eq!(country_by_alpha3("chn").unwrap().numeric, "156");
    }

    #[test]
    fn missions_are_consistent() {
        let m = missions();
        assert_unique("mission name", m.iter().map(|m| m.name_zh));
        let hosts: HashSet<&str> = countries().iter().map(|c| c.alpha3).collect();
        for m in m {
            assert!(hosts.contains(m.host_alpha3), "{}: host", m.name_zh);
            assert!(m.host_alpha3 != "CHN", "{}", m.name_zh);
        }
        assert_unique(
            "embassy host",
            m.iter()
                .filter(|m| m.kind == MissionKind::Embassy)
                .map(|m| m.host_alpha3),
        );
        for m in m.iter().filter(|m| m.kind == MissionKind::Embassy) {
            assert!(m.name_zh.starts_with("中国驻") && m.name_zh.ends_with("大使馆"));
        }
        for m in m.iter().filter(|m| m.kind == MissionKind::ConsulateGeneral) {
            assert_eq!(m.name_zh, format!("中国驻{}总领事馆", m.city_zh));
        }
    }

    #[test]
    fn mission_spot_checks() {
        let us: Vec<&Mission> = missions_in("USA").collect();
        let embassy = us.iter().find(|m| m.name_zh == "中国驻美国大使馆").unwrap();
        assert_eq!(embassy.kind, MissionKind::Embassy);
        let ny = us
            .iter()
            .find(|m| m.name_zh == "中国驻纽约总领事馆")
            .unwrap();
        assert_eq!(ny.kind, MissionKind::ConsulateGeneral);
        assert_eq!(ny.city_zh, "纽约");
        assert!(
            mission_by_name("中国驻休斯敦总领事馆").is_none(),
            "closed 2020"
        );
        for name in [
            "中国驻旧金山总领事馆",
            "中国驻洛杉矶总领事馆",
            "中国驻芝加哥总领事馆",
        ] {
            assert_eq!(mission_by_name(name).unwrap().host_alpha3, "USA", "{name}");
        }
        for name in [
            "中国驻日本大使馆",
            "中国驻大阪总领事馆",
            "中国驻福冈总领事馆",
            "中国驻札幌总领事馆",
            "中国驻长崎总领事馆",
            "中国驻名古屋总领事馆",
            "中国驻新潟总领事馆",
        ] {
            assert_eq!(mission_by_name(name).unwrap().host_alpha3, "JPN", "{name}");
        }
        for name in [
            "中国驻德国大使馆",
            "中国驻法兰克福总领事馆",
            "中国驻汉堡总领事馆",
            "中国驻慕尼黑总领事馆",
            "中国驻杜塞尔多夫总领事馆",
        ] {
            assert_eq!(mission_by_name(name).unwrap().host_alpha3, "DEU", "{name}");
        }
        let hk = missions_in("HKG").next().unwrap();
        assert_eq!(hk.kind, MissionKind::Office);
    }

    #[test]
    fn ports_are_consistent() {
        assert_unique("port name", ports().iter().map(|p| p.name_zh));
        for p in ports() {
            assert!(
                ["省", "市", "自治区"]
                    .iter()
                    .any(|s| p.province_zh.ends_with(s)),
                "{}: province {}",
                p.name_zh,
                p.province_zh
            );
        }
        for (name, kind, province) in [
            ("北京首都国际机场", PortKind::Air, "北京市"),
            ("北京大兴国际机场", PortKind::Air, "北京市"),
            ("上海浦东国际机场", PortKind::Air, "上海市"),
            ("南京禄口国际机场", PortKind::Air, "江苏省"),
            ("常州奔牛国际机场", PortKind::Air, "江苏省"),
            ("罗湖口岸", PortKind::Land, "广东省"),
            ("霍尔果斯口岸", PortKind::Land, "新疆维吾尔自治区"),
            ("上海港", PortKind::Sea, "上海市"),
            ("连云港港", PortKind::Sea, "江苏省"),
        ] {
            let p = port_by_name(name).unwrap();
            assert_eq!((p.kind, p.province_zh), (kind, province), "{name}");
        }
    }

    #[test]
    fn codes_are_consistent() {
        for list in [purposes(), cost_bearers()] {
            assert_unique("code", list.iter().map(|c| c.code));
            assert_unique("name", list.iter().map(|c| c.name_zh));
            for c in list {
                assert!(
                    c.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{}",
                    c.code
                );
            }
            assert_eq!(list.last().unwrap().code, "other");
        }
        assert_eq!(purpose("business").unwrap().name_zh, "商务洽谈");
        assert_eq!(
            cost_bearer("inviting_unit").unwrap().name_zh,
            "邀请单位承担"
        );
        assert_eq!(cost_bearer("self").unwrap().name_zh, "外方自理");
        assert!(purpose("nonexistent").is_none());
    }

    #[test]
    fn every_purpose_defaults_to_a_seeded_visa_type() {
        assert_eq!(visa_types().len(), data_lines(VISA_TYPES_TSV));
        assert_unique("code", visa_types().iter().map(|c| c.code));
        for p in purposes() {
            if let Some(v) = crate::domain::group_fields::default_visa_type(p.code) {
                assert!(visa_types().iter().any(|c| c.code == v), "{}", p.code);
            }
        }
        assert!(visa_types()
            .iter()
            .any(|c| c.code == "M" && c.name_zh == "商贸"));
    }

    #[test]
    fn kinds_round_trip() {
        for k in MissionKind::ALL {
            assert_eq!(MissionKind::parse(k.as_str()), Some(k));
        }
        for k in PortKind::ALL {
            assert_eq!(PortKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MissionKind::Embassy.label(), "大使馆");
        assert_eq!(MissionKind::ConsulateGeneral.label(), "总领事馆");
        assert_eq!(MissionKind::Consulate.label(), "领事馆");
        assert_eq!(MissionKind::Office.label(), "办事处");
        assert_eq!(PortKind::Air.label(), "航空");
        assert_eq!(PortKind::Land.label(), "公路");
        assert_eq!(PortKind::Rail.label(), "铁路");
        assert_eq!(PortKind::Sea.label(), "水运");
        assert_eq!(MissionKind::parse("Embassy"), None);
    }

    #[test]
    fn additions_are_consistent() {
        assert_eq!(level(), 2);
        assert_unique("addition", additions().iter().map(|a| a.name_zh));
        for a in additions() {
            assert!(a.level >= 1, "{}", a.name_zh);
            match a.list {
                "ports" => assert!(port_by_name(a.name_zh).is_some(), "{}", a.name_zh),
                "missions" => assert!(mission_by_name(a.name_zh).is_some(), "{}", a.name_zh),
                other => panic!("unknown list {other}"),
            }
        }
        for r in RECLASSIFIED {
            assert_eq!(port_by_name(r.name_zh).unwrap().kind, r.to);
            assert_eq!(added_at("ports", r.name_zh), 0);
        }
        // Level 0 is what databases were first seeded with: 216 ports, 277 missions.
        let at0 = |list, names: Vec<&'static str>| {
            sort_at(list, names, 0)
                .into_iter()
                .filter_map(|(n, s)| s.map(|s| (n, s)))
                .collect::<Vec<_>>()
        };
        let ports0 = at0("ports", ports().iter().map(|p| p.name_zh).collect());
        assert_eq!(ports0.len(), 216);
        assert_eq!(ports0[0], ("北京首都国际机场", 0));
        assert_eq!(ports0[215], ("佳木斯港", 215));
        assert!(ports0.contains(&("凭祥铁路口岸", 97)));
        let missions0 = at0("missions", missions().iter().map(|m| m.name_zh).collect());
        assert_eq!(missions0.len(), 277);
        assert_eq!(missions0[137], ("中国驻柬埔寨大使馆驻暹粒领事办公室", 137));
        assert_eq!(missions0[138], ("中国驻基里巴斯大使馆", 138));
        // Level 1 had 302 ports; the level-2 rows were inserted without moving the older ones.
        let ports1: Vec<_> = sort_at("ports", ports().iter().map(|p| p.name_zh), 1)
            .into_iter()
            .filter_map(|(n, s)| s.map(|s| (n, s)))
            .collect();
        assert_eq!(ports1.len(), 302);
        assert!(ports1.iter().enumerate().all(|(i, (_, s))| *s == i as i64));
        assert_eq!(ports1[55], ("鄂州花湖国际机场", 55));
        assert_eq!(ports1[56], ("长沙黄花国际机场", 56));
        assert_eq!(added_at("ports", "滨州港"), 2);
        // At the current level every entry has its position in the file.
        let all = sort_at("ports", ports().iter().map(|p| p.name_zh), level());
        assert!(all
            .iter()
            .enumerate()
            .all(|(i, (_, s))| *s == Some(i as i64)));
    }

    #[test]
    fn new_missions_and_ports() {
        let khm: Vec<&str> = missions_in("KHM").map(|m| m.name_zh).collect();
        assert_eq!(
            khm,
            [
                "中国驻柬埔寨大使馆",
                "中国驻柬埔寨大使馆驻暹粒领事办公室",
                "中国驻柬埔寨大使馆驻西哈努克省领事办公室",
            ]
        );
        let hk: Vec<&Mission> = missions_in("HKG").collect();
        assert_eq!(hk.len(), 1);
        assert_eq!(hk[0].name_zh, "外交部驻香港特别行政区特派员公署");
        let mo: Vec<&Mission> = missions_in("MAC").collect();
        assert_eq!(mo.len(), 1);
        assert_eq!(mo[0].name_zh, "外交部驻澳门特别行政区特派员公署");
        for (name, kind, province) in [
            ("满洲里铁路口岸", PortKind::Rail, "内蒙古自治区"),
            ("磨憨铁路口岸", PortKind::Rail, "云南省"),
            ("凭祥铁路口岸", PortKind::Rail, "广西壮族自治区"),
            ("广深港高铁西九龙站口岸", PortKind::Rail, "广东省"),
            ("沙坨子口岸", PortKind::Land, "吉林省"),
            ("黑河公路口岸", PortKind::Land, "黑龙江省"),
            ("乌拉斯台口岸", PortKind::Land, "新疆维吾尔自治区"),
            ("饶河港", PortKind::Sea, "黑龙江省"),
            ("深圳福永港", PortKind::Sea, "广东省"),
            ("珠海九洲港", PortKind::Sea, "广东省"),
            ("景洪港", PortKind::Sea, "云南省"),
            ("鄂州花湖国际机场", PortKind::Air, "湖北省"),
            ("恩施许家坪机场", PortKind::Air, "湖北省"),
            ("遵义新舟机场", PortKind::Air, "贵州省"),
            ("铜仁凤凰机场", PortKind::Air, "贵州省"),
            ("滨州港", PortKind::Sea, "山东省"),
        ] {
            let p = port_by_name(name).unwrap();
            assert_eq!((p.kind, p.province_zh), (kind, province), "{name}");
        }
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let text: &'static str = "a\tb\nx\ty\nonly\n\nx\t\nx\ty\tz\n";
        let got: Vec<[&str; 2]> = records::<2>(text).collect();
        assert_eq!(got, vec![["x", "y"]]);
    }
}
