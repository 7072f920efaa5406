//! Times the unit's history page query and the reviewers' queue queries on a database of 1,000
//! and of 1,000,000 groups, to show they are served by indexes (about as fast at both sizes):
//!
//! ```sh
//! cargo run --release --example list_bench            # SQLite in a temporary folder
//! LAIHUA_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres \
//!     cargo run --release --example list_bench        # a fresh PostgreSQL database
//! LAIHUA_BENCH_SIZES=1000,100000 cargo run --release --example list_bench
//! ```
//!
//! Rows are inserted with plain multi-row INSERTs (the data generator of the load benchmark is
//! a separate piece); the timed calls are the store functions the pages use.

use std::time::Instant;

use laihua::domain::group::GroupState;
use laihua::store::groups::{self, HistoryFilter};

const RUNS: usize = 50;
const UNITS: i64 = 10_000;

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn database(size: i64) -> anyhow::Result<(laihua::db::Db, Option<String>)> {
    match std::env::var("LAIHUA_BENCH_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            sqlx::any::install_default_drivers();
            let name = format!("laihua_bench_{size}_{}", std::process::id());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await?;
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
            let (prefix, _) = base.rsplit_once('/').unwrap_or((base.as_str(), ""));
            Ok((
                laihua::db::Db::connect(&format!("{prefix}/{name}")).await?,
                Some(name),
            ))
        }
        _ => {
            let dir =
                std::env::temp_dir().join(format!("laihua-bench-{size}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
            Ok((laihua::db::Db::connect(&url).await?, None))
        }
    }
}

async fn fill(db: &laihua::db::Db, size: i64) -> anyhow::Result<()> {
    db.migrate().await?;
    let files = laihua::files::FileStore::new(std::env::temp_dir().join("laihua-bench-files"));
    laihua::seed::seed(db, &files, 0, false).await?;
    let mission: i64 = sqlx::query_scalar("SELECT MIN(id) FROM missions")
        .fetch_one(&db.pool)
        .await?;
    let district: i64 = sqlx::query_scalar("SELECT MIN(id) FROM districts")
        .fetch_one(&db.pool)
        .await?;
    let mut tx = db.begin().await?;
    let mut sql = String::new();
    for u in 0..UNITS {
        if sql.is_empty() {
            sql.push_str("INSERT INTO units (name, name_key, english_name, credit_code, district_id, address, unit_type, legal_rep, contact_name, landline, mobile, email, state, county_passed, blacklisted, created_at, updated_at) VALUES ");
        } else {
            sql.push(',');
        }
        sql.push_str(&format!(
            "('单位{u}', '单位{u}', 'Unit {u}', 'CODE{u:014}', {}, '地址', '企业', '张三', '李四', '0519-1', '13900000000', 'a@b.cn', 'approved', 1, 0, 0, 0)",
            district + u % 7
        ));
        if u % 500 == 499 || u == UNITS - 1 {
            sqlx::query(&sql).execute(tx.conn()).await?;
            sql.clear();
        }
    }
    let states = [
        "draft",
        "pending_county",
        "pending_city",
        "accepted",
        "reported",
        "dispatched",
        "returned",
    ];
    let t = Instant::now();
    for g in 0..size {
        if sql.is_empty() {
            sql.push_str("INSERT INTO invitation_groups (unit_id, district_id, number, state, name, purpose, arrival, departure, places, cost_bearer, mission_id, entry_type, ground, contact_name, contact_phone, remarks, data_hash, submitted_at, county_passed_at, created_at, updated_at) VALUES ");
        } else {
            sql.push(',');
        }
        // The newest groups are still in review; older ones are mostly dispatched.
        let state = if g > size - 300 {
            states[(g % 5) as usize]
        } else if g % 10 == 0 {
            "returned"
        } else {
            "dispatched"
        };
        let ts = 1_600_000_000 + g;
        sql.push_str(&format!(
            "({}, {}, 'B{g:09}', '{state}', '交流团{g}', 'business', '2026-01-01', '2026-01-10', '常州', 'inviting_unit', {mission}, 'single', '', '李四', '13900000000', '', 'h', {ts}, {ts}, {ts}, {ts})",
            1 + g % UNITS,
            district + (g % UNITS) % 7
        ));
        if g % 500 == 499 || g == size - 1 {
            sqlx::query(&sql).execute(tx.conn()).await?;
            sql.clear();
        }
    }
    tx.commit().await?;
    sqlx::query("INSERT INTO group_visitors (group_id, seq, surname, given_name, sex, birth_date, nationality, passport_no, passport_expiry, employer, position) SELECT id, 1, 'DOE', 'JOHN', 'M', '1980-01-01', 'USA', 'P' || id, '2035-01-01', 'ACME', 'CEO' FROM invitation_groups")
        .execute(&db.pool)
        .await?;
    // Fresh statistics for the planner (both databases understand ANALYZE).
    sqlx::query("ANALYZE").execute(&db.pool).await?;
    eprintln!(
        "  loaded {size} groups in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn time<F, Fut>(f: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    f().await?;
    let mut v = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await?;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median_ms(v))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<i64> = std::env::var("LAIHUA_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "{:>10} {:>12} {:>14} {:>12} {:>12}   (median of {RUNS} runs, ms)",
        "groups", "history", "history+text", "city queue", "county queue"
    );
    for size in sizes {
        let (db, pg) = database(size).await?;
        fill(&db, size).await?;
        let pool = db.pool.clone();
        let unit = 1 + (size - 1) % UNITS;
        let district: i64 = sqlx::query_scalar("SELECT MIN(id) FROM districts")
            .fetch_one(&pool)
            .await?;
        let h = time(|| {
            let pool = pool.clone();
            async move {
                groups::history(&pool, unit, &HistoryFilter::default(), 20, 0)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        let ht = time(|| {
            let pool = pool.clone();
            let f = HistoryFilter {
                text: "交流团".into(),
                ..HistoryFilter::default()
            };
            async move {
                groups::history(&pool, unit, &f, 20, 0)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        let cq = time(|| {
            let pool = pool.clone();
            async move {
                groups::queue(&pool, GroupState::PendingCity, None, 50, 0)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        let kq = time(|| {
            let pool = pool.clone();
            async move {
                groups::queue(&pool, GroupState::PendingCounty, Some(district), 50, 0)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        println!("{size:>10} {h:>12.2} {ht:>14.2} {cq:>12.2} {kq:>12.2}");
        db.pool.close().await;
        if let (Some(name), Ok(base)) = (pg, std::env::var("LAIHUA_BENCH_POSTGRES_URL")) {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await?;
            sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name}").as_str(),
            )
            .await?;
        }
    }
    Ok(())
}
