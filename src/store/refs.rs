//! Reference data of groups and visits: countries, missions, ports and code lists.

use std::collections::BTreeMap;

use sqlx::Row;

use super::sql::{Conn, DbResult};
use crate::collate;
use crate::domain::audit::ObjectType;
use crate::domain::principal::Actor;
use crate::refdata::{MissionKind, PortKind};

/// The settings key of the reference-data level a database has received
/// (`crate::refdata::level`); absent means 0, the first seed.
const LEVEL_KEY: &str = "refdata_level";

#[derive(Clone, Debug)]
pub struct Country {
    pub alpha3: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Clone, Debug)]
pub struct MissionRef {
    pub id: i64,
    pub host_alpha3: String,
    pub name_zh: String,
}

#[derive(Clone, Debug)]
pub struct Code {
    pub code: String,
    pub name_zh: String,
}

#[derive(Clone, Debug)]
pub struct Port {
    pub id: i64,
    pub name_zh: String,
    pub kind: String,
    pub province_zh: String,
}

/// Everything the group form offers (active entries only), loaded together, and the names of
/// every entry, retired ones included, for showing old records.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    pub countries: Vec<Country>,
    pub missions: Vec<MissionRef>,
    pub purposes: Vec<Code>,
    pub cost_bearers: Vec<Code>,
    /// 拟申请签证种类 (codes of kind `visa_type`).
    pub visa_types: Vec<Code>,
    /// alpha3 → Chinese name, retired countries included.
    pub country_names: BTreeMap<String, String>,
    /// (kind, code) → Chinese name, retired codes included.
    code_names: BTreeMap<(String, String), String>,
    /// Retired missions: id → (host alpha3, name).
    pub retired_missions: BTreeMap<i64, (String, String)>,
}

impl Country {
    /// What type-to-find matches the country by besides its label (`static/find.js`): the
    /// pinyin initials and full pinyin of its name, its ISO alpha-3 code and its English name.
    pub fn find(&self) -> String {
        let en: String = self.name_en.split_whitespace().collect();
        collate::find_keys(&[&self.name_zh], &[&self.alpha3, &en])
    }
}

impl MissionRef {
    /// What type-to-find matches the mission by besides its label (`static/find.js`): the
    /// pinyin of its name after “中国驻”/“外交部驻” (`中国驻纽约总领事馆` → `nyzlsg`, …) and the
    /// code of its host country.
    pub fn find(&self) -> String {
        let short = self
            .name_zh
            .split_once('驻')
            .map(|(_, rest)| rest)
            .unwrap_or(&self.name_zh);
        collate::find_keys(&[short], &[&self.host_alpha3])
    }
}

/// Regions whose people are not foreigners for this purpose.
pub const NOT_FOREIGN: &[&str] = &["CHN", "HKG", "MAC", "TWN"];

impl Lists {
    /// Countries that can be a visitor's nationality.
    pub fn nationalities(&self) -> Vec<&Country> {
        self.countries
            .iter()
            .filter(|c| !NOT_FOREIGN.contains(&c.alpha3.as_str()))
            .collect()
    }
    /// Countries that host at least one mission.
    pub fn host_countries(&self) -> Vec<&Country> {
        self.countries
            .iter()
            .filter(|c| self.missions.iter().any(|m| m.host_alpha3 == c.alpha3))
            .collect()
    }
    /// The name of a country, retired or not (the code itself when unknown).
    pub fn country_name(&self, alpha3: &str) -> String {
        self.country_names
            .get(alpha3)
            .cloned()
            .unwrap_or_else(|| alpha3.to_string())
    }
    pub fn purpose_name(&self, code: &str) -> String {
        self.code_name("purpose", code)
    }
    pub fn cost_bearer_name(&self, code: &str) -> String {
        self.code_name("cost_bearer", code)
    }
    pub fn visa_type_name(&self, code: &str) -> String {
        self.code_name("visa_type", code)
    }
    /// A visa type as offered and printed, `M（商贸）` ("" for none).
    pub fn visa_type_label(&self, code: &str) -> String {
        if code.is_empty() {
            return String::new();
        }
        let name = self.code_name("visa_type", code);
        crate::domain::group_fields::visa_label(code, &name)
    }
    fn code_name(&self, kind: &str, code: &str) -> String {
        self.code_names
            .get(&(kind.to_string(), code.to_string()))
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
    /// Whether a code of this kind exists but is retired.
    pub fn code_retired(&self, kind: &str, code: &str) -> bool {
        let offered = match kind {
            "purpose" => &self.purposes,
            "visa_type" => &self.visa_types,
            _ => &self.cost_bearers,
        };
        !offered.iter().any(|c| c.code == code)
            && self
                .code_names
                .contains_key(&(kind.to_string(), code.to_string()))
    }
}

/// The version of the reference data: changed by every edit (`bump_version`), so that each
/// instance knows when its cached lists are stale.
pub async fn version(pool: &sqlx::AnyPool) -> DbResult<String> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'refdata_version'")
            .fetch_optional(pool)
            .await?
            .unwrap_or_default(),
    )
}

/// Marks the reference data changed (in the transaction of the change).
pub async fn bump_version(conn: &mut Conn) -> DbResult<()> {
    let token = format!("{:016x}", rand::random::<u64>());
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('refdata_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(token)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Names of every country, retired ones included: alpha3 → Chinese name.
pub async fn country_names(pool: &sqlx::AnyPool) -> DbResult<BTreeMap<String, String>> {
    sqlx::query_as::<_, (String, String)>("SELECT alpha3, name_zh FROM countries")
        .fetch_all(pool)
        .await
        .map(|v| v.into_iter().collect())
}

pub async fn lists(pool: &sqlx::AnyPool) -> DbResult<Lists> {
    let mut countries = sqlx::query(
        "SELECT alpha3, name_zh, name_en FROM countries WHERE retired = 0 ORDER BY alpha3",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Country {
            alpha3: r.try_get("alpha3")?,
            name_zh: r.try_get("name_zh")?,
            name_en: r.try_get("name_en")?,
        })
    })
    .collect::<DbResult<Vec<_>>>()?;
    collate::sort_by_name(&mut countries, |c| &c.name_zh);
    let mut missions = sqlx::query(
        "SELECT m.id, m.host_alpha3, m.name_zh, m.kind FROM missions m JOIN countries c ON c.alpha3 = m.host_alpha3
         WHERE m.retired = 0 AND c.retired = 0 ORDER BY m.id",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            MissionRef {
                id: r.try_get("id")?,
                host_alpha3: r.try_get("host_alpha3")?,
                name_zh: r.try_get("name_zh")?,
            },
            r.try_get::<String, _>("kind")?,
        ))
    })
    .collect::<DbResult<Vec<_>>>()?;
    // By host country in pinyin order (as the countries are offered), the embassy first, then
    // the consulates and offices, each in pinyin order of their names.
    let country_rank: BTreeMap<&str, usize> = countries
        .iter()
        .enumerate()
        .map(|(i, c)| (c.alpha3.as_str(), i))
        .collect();
    missions.sort_by_cached_key(|(m, kind)| {
        (
            country_rank
                .get(m.host_alpha3.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            MissionKind::ALL
                .iter()
                .position(|k| k.as_str() == kind)
                .unwrap_or(MissionKind::ALL.len()),
            collate::key(&m.name_zh),
        )
    });
    let missions: Vec<MissionRef> = missions.into_iter().map(|(m, _)| m).collect();
    let code_names =
        sqlx::query_as::<_, (String, String, String)>("SELECT kind, code, name_zh FROM codes")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(k, c, n)| ((k, c), n))
            .collect();
    let retired_missions = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT m.id, m.host_alpha3, m.name_zh FROM missions m JOIN countries c ON c.alpha3 = m.host_alpha3
         WHERE m.retired <> 0 OR c.retired <> 0",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(id, h, n)| (id, (h, n)))
    .collect();
    Ok(Lists {
        countries,
        missions,
        purposes: codes(pool, "purpose").await?,
        cost_bearers: codes(pool, "cost_bearer").await?,
        visa_types: codes(pool, "visa_type").await?,
        country_names: country_names(pool).await?,
        code_names,
        retired_missions,
    })
}

pub async fn codes(pool: &sqlx::AnyPool, kind: &str) -> DbResult<Vec<Code>> {
    sqlx::query(
        "SELECT code, name_zh FROM codes WHERE kind = $1 AND retired = 0 ORDER BY sort, code",
    )
    .bind(kind)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Code {
            code: r.try_get("code")?,
            name_zh: r.try_get("name_zh")?,
        })
    })
    .collect()
}

/// The ports in force, by kind (航空, 水运, 铁路, 公路, then any other kind an administrator
/// typed), then in pinyin order of their names.
pub async fn ports(pool: &sqlx::AnyPool) -> DbResult<Vec<Port>> {
    let mut ports = sqlx::query(
        "SELECT id, name_zh, kind, province_zh FROM ports WHERE retired = 0 ORDER BY kind, id",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Port {
            id: r.try_get("id")?,
            name_zh: r.try_get("name_zh")?,
            kind: r.try_get("kind")?,
            province_zh: r.try_get("province_zh")?,
        })
    })
    .collect::<DbResult<Vec<_>>>()?;
    let rank = |kind: &str| {
        PortKind::ALL
            .iter()
            .position(|k| k.as_str() == kind)
            .unwrap_or(PortKind::ALL.len())
    };
    ports.sort_by_cached_key(|p| (rank(&p.kind), collate::key(&p.name_zh)));
    Ok(ports)
}

impl Port {
    /// What type-to-find matches the port by besides its label (`static/find.js`): the pinyin
    /// of its name and of its province.
    pub fn find(&self) -> String {
        collate::find_keys(&[&self.name_zh, &self.province_zh], &[])
    }
    /// The label of the port's kind (`航空口岸`, …), empty for a kind not known.
    pub fn kind_label(&self) -> String {
        PortKind::parse(&self.kind)
            .map(|k| format!("{}口岸", k.label()))
            .unwrap_or_default()
    }
}

/// Names of every port, retired ones included: id → Chinese name.
pub async fn port_names(pool: &sqlx::AnyPool) -> DbResult<BTreeMap<i64, String>> {
    sqlx::query_as::<_, (i64, String)>("SELECT id, name_zh FROM ports")
        .fetch_all(pool)
        .await
        .map(|v| v.into_iter().collect())
}

/// Seeds the reference data from the files in `refdata/` (kept in the binary); entries
/// already present are left as the administrator edited them. A database seeded by an older
/// version then receives the entries added since (see [`upgrade`]).
pub async fn seed(conn: &mut Conn, now: i64) -> DbResult<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM countries")
        .fetch_one(&mut *conn)
        .await?;
    if n == 0 {
        for (i, c) in crate::refdata::countries().iter().enumerate() {
            sqlx::query(
                "INSERT INTO countries (alpha3, alpha2, name_zh, name_en, sort, retired) VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(c.alpha3)
            .bind(c.alpha2)
            .bind(c.name_zh)
            .bind(c.name_en)
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
        }
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM missions")
        .fetch_one(&mut *conn)
        .await?;
    if n == 0 {
        for (i, m) in crate::refdata::missions().iter().enumerate() {
            sqlx::query(
                "INSERT INTO missions (host_alpha3, kind, name_zh, city_zh, sort, retired) VALUES ($1, $2, $3, $4, $5, 0)",
            )
            .bind(m.host_alpha3)
            .bind(m.kind.as_str())
            .bind(m.name_zh)
            .bind(m.city_zh)
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
        }
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ports")
        .fetch_one(&mut *conn)
        .await?;
    if n == 0 {
        for (i, p) in crate::refdata::ports().iter().enumerate() {
            sqlx::query(
                "INSERT INTO ports (name_zh, kind, province_zh, sort, retired) VALUES ($1, $2, $3, $4, 0)",
            )
            .bind(p.name_zh)
            .bind(p.kind.as_str())
            .bind(p.province_zh)
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
        }
    }
    for (kind, list) in [
        ("purpose", crate::refdata::purposes()),
        ("cost_bearer", crate::refdata::cost_bearers()),
        ("visa_type", crate::refdata::visa_types()),
    ] {
        for (i, c) in list.iter().enumerate() {
            sqlx::query(
                "INSERT INTO codes (kind, code, name_zh, sort, retired) VALUES ($1, $2, $3, $4, 0)
                 ON CONFLICT (kind, code) DO NOTHING",
            )
            .bind(kind)
            .bind(c.code)
            .bind(c.name_zh)
            .bind(i as i64)
            .execute(&mut *conn)
            .await?;
        }
    }
    upgrade(conn, now).await
}

/// The reference-data level this database has received.
pub async fn level(conn: &mut Conn) -> DbResult<i64> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(LEVEL_KEY)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Brings a database seeded at an older reference-data level to the level of this binary,
/// once: the ports and missions added since are inserted (unless one of that name exists),
/// audited as added by the system; entries still at the sort number they were seeded with
/// move to their place in the files; corrected kinds are applied where an administrator has
/// not changed the kind. An entry an administrator retired or renamed later is not touched
/// again, since each level is applied only once. Two instances starting together insert
/// nothing twice (names are unique).
pub async fn upgrade(conn: &mut Conn, now: i64) -> DbResult<()> {
    let target = crate::refdata::level();
    let mut have = level(conn).await?;
    if have >= target {
        return Ok(());
    }
    let port_names: Vec<&str> = crate::refdata::ports().iter().map(|p| p.name_zh).collect();
    let mission_names: Vec<&str> = crate::refdata::missions()
        .iter()
        .map(|m| m.name_zh)
        .collect();
    while have < target {
        let next = have + 1;
        for (table, names) in [("ports", &port_names), ("missions", &mission_names)] {
            let before = crate::refdata::sort_at(table, names.iter().copied(), have);
            let after = crate::refdata::sort_at(table, names.iter().copied(), next);
            for ((name, old), (_, new)) in before.into_iter().zip(after) {
                match (old, new) {
                    (Some(old), Some(new)) if old != new => {
                        sqlx::query(&format!(
                            "UPDATE {table} SET sort = $1 WHERE name_zh = $2 AND sort = $3"
                        ))
                        .bind(new)
                        .bind(name)
                        .bind(old)
                        .execute(&mut *conn)
                        .await?;
                    }
                    (None, Some(new)) => add_entry(conn, table, name, new, next, now).await?,
                    _ => {}
                }
            }
        }
        for r in crate::refdata::RECLASSIFIED
            .iter()
            .filter(|r| r.level == next)
        {
            sqlx::query("UPDATE ports SET kind = $1 WHERE name_zh = $2 AND kind = $3")
                .bind(r.to.as_str())
                .bind(r.name_zh)
                .bind(r.from.as_str())
                .execute(&mut *conn)
                .await?;
        }
        have = next;
    }
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(LEVEL_KEY)
    .bind(target.to_string())
    .execute(&mut *conn)
    .await?;
    bump_version(conn).await
}

/// Inserts one added port or mission from the files, unless one of that name exists.
async fn add_entry(
    conn: &mut Conn,
    table: &str,
    name: &str,
    sort: i64,
    level: i64,
    now: i64,
) -> DbResult<()> {
    let inserted: Option<i64> = if table == "ports" {
        let Some(p) = crate::refdata::port_by_name(name) else {
            return Ok(());
        };
        sqlx::query_scalar(
            "INSERT INTO ports (name_zh, kind, province_zh, sort, retired) VALUES ($1, $2, $3, $4, 0)
             ON CONFLICT (name_zh) DO NOTHING RETURNING id",
        )
        .bind(p.name_zh)
        .bind(p.kind.as_str())
        .bind(p.province_zh)
        .bind(sort)
        .fetch_optional(&mut *conn)
        .await?
    } else {
        let Some(m) = crate::refdata::mission_by_name(name) else {
            return Ok(());
        };
        // The host must exist (an administrator may have removed nothing, but be safe).
        let host: Option<String> =
            sqlx::query_scalar("SELECT alpha3 FROM countries WHERE alpha3 = $1")
                .bind(m.host_alpha3)
                .fetch_optional(&mut *conn)
                .await?;
        if host.is_none() {
            return Ok(());
        }
        sqlx::query_scalar(
            "INSERT INTO missions (host_alpha3, kind, name_zh, city_zh, sort, retired) VALUES ($1, $2, $3, $4, $5, 0)
             ON CONFLICT (name_zh) DO NOTHING RETURNING id",
        )
        .bind(m.host_alpha3)
        .bind(m.kind.as_str())
        .bind(m.name_zh)
        .bind(m.city_zh)
        .bind(sort)
        .fetch_optional(&mut *conn)
        .await?
    };
    if let Some(id) = inserted {
        let (object_type, label) = if table == "ports" {
            (ObjectType::Port, "入出境口岸")
        } else {
            (ObjectType::Mission, "驻外使领馆")
        };
        super::audit::write(
            conn,
            &Actor::system(),
            now,
            "refdata.add",
            object_type,
            &id.to_string(),
            &format!("{label}：{name}（参考数据更新，第{level}版）"),
        )
        .await?;
    }
    Ok(())
}
