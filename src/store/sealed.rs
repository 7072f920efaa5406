//! The visitors' columns kept sealed with SM4-GCM (issue 18): passport number, birth date and
//! employer address. Sealed when written, opened when read, each under its own context (a
//! value copied into another column does not open there); the passport number has a keyed
//! index (HMAC-SM3) for exact search. A value written in clear by a version before the sealing
//! reads as it is until the sealing job (`workflow::sealing`) seals it.

use super::sql::DbResult;
use crate::keys::{KeyError, KeyRing};

pub const PASSPORT_NO: &str = "group_visitors.passport_no";
pub const BIRTH_DATE: &str = "group_visitors.birth_date";
pub const EMPLOYER_ADDRESS: &str = "group_visitors.employer_address";
/// The kind of the passport number's keyed index.
const PASSPORT_INDEX: &str = "passport";

/// A visitor's sealed columns, ready to bind.
pub struct SealedVisitor {
    pub passport_no: String,
    pub birth_date: String,
    pub employer_address: String,
    pub passport_index: String,
    /// The number of the data key they are sealed under.
    pub key: i64,
}

/// Seals a visitor's personal columns under the current key.
pub fn seal_visitor(
    keys: &KeyRing,
    passport_no: &str,
    birth_date: &str,
    employer_address: &str,
) -> SealedVisitor {
    let k = keys.get();
    SealedVisitor {
        passport_no: k.seal_text(passport_no, PASSPORT_NO),
        birth_date: k.seal_text(birth_date, BIRTH_DATE),
        employer_address: k.seal_text(employer_address, EMPLOYER_ADDRESS),
        passport_index: k.index(PASSPORT_INDEX, passport_no),
        key: i64::from(k.current()),
    }
}

/// The keyed index of a passport number (as `domain::group::parse_passport` normalises it).
pub fn passport_index(keys: &KeyRing, passport_no: &str) -> String {
    keys.index(PASSPORT_INDEX, passport_no)
}

/// Opens the sealed column `column` of a row (its context is `context`).
pub fn open(
    keys: &KeyRing,
    r: &sqlx::any::AnyRow,
    column: &str,
    context: &str,
) -> DbResult<String> {
    use sqlx::Row;
    let stored: String = r.try_get(column)?;
    open_value(keys, &stored, column, context)
}

/// Opens a sealed value read from the column `column`.
pub fn open_value(keys: &KeyRing, stored: &str, column: &str, context: &str) -> DbResult<String> {
    keys.open_text(stored, context)
        .map_err(|e| decode_error(column, e))
}

fn decode_error(column: &str, e: KeyError) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(e),
    }
}

/// A visitor's personal columns as stored (sealed, or in clear by an earlier version).
#[derive(Clone, Debug)]
pub struct StoredVisitor {
    pub id: i64,
    pub passport_no: String,
    pub birth_date: String,
    pub employer_address: String,
}

/// Visitors after `after` (by id) not sealed under key `current`, at most `limit`.
pub async fn visitors_to_seal(
    pool: &sqlx::AnyPool,
    current: i64,
    after: i64,
    limit: i64,
) -> DbResult<Vec<StoredVisitor>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, passport_no, birth_date, employer_address FROM group_visitors
         WHERE id > $1 AND (seal_key IS NULL OR seal_key <> $2) AND passport_no <> ''
         ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(current)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredVisitor {
                id: r.try_get("id")?,
                passport_no: r.try_get("passport_no")?,
                birth_date: r.try_get("birth_date")?,
                employer_address: r.try_get("employer_address")?,
            })
        })
        .collect()
}

/// Writes a visitor's columns sealed anew, unless they changed since `old` was read (an edit
/// meanwhile wrote them sealed already). Whether it wrote.
pub async fn reseal_visitor(
    pool: &sqlx::AnyPool,
    old: &StoredVisitor,
    new: &SealedVisitor,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE group_visitors SET passport_no = $1, birth_date = $2, employer_address = $3,
            passport_index = $4, seal_key = $5
         WHERE id = $6 AND passport_no = $7 AND birth_date = $8 AND employer_address = $9",
    )
    .bind(new.passport_no.as_str())
    .bind(new.birth_date.as_str())
    .bind(new.employer_address.as_str())
    .bind(new.passport_index.as_str())
    .bind(new.key)
    .bind(old.id)
    .bind(old.passport_no.as_str())
    .bind(old.birth_date.as_str())
    .bind(old.employer_address.as_str())
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stored files (by name, after `after`) not known to be sealed under key `current`.
pub async fn files_to_seal(
    pool: &sqlx::AnyPool,
    current: i64,
    after: &str,
    limit: i64,
) -> DbResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT sha256 FROM files
         WHERE sha256 > $1 AND (seal_key IS NULL OR seal_key <> $2)
         ORDER BY sha256 LIMIT $3",
    )
    .bind(after)
    .bind(current)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records that the stored file `sha` is sealed under key `key` (in a transaction or not).
pub async fn mark_file<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    sha: &str,
    key: i64,
) -> DbResult<()> {
    sqlx::query("UPDATE files SET seal_key = $1 WHERE sha256 = $2")
        .bind(key)
        .bind(sha)
        .execute(db)
        .await?;
    Ok(())
}

/// How many visitors and stored files are not sealed under key `current` (the key rotation's
/// and the tests' check).
pub async fn unsealed_counts(pool: &sqlx::AnyPool, current: i64) -> DbResult<(i64, i64)> {
    let visitors = sqlx::query_scalar(
        "SELECT COUNT(*) FROM group_visitors
         WHERE (seal_key IS NULL OR seal_key <> $1) AND passport_no <> ''",
    )
    .bind(current)
    .fetch_one(pool)
    .await?;
    let files = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT sha256) FROM files WHERE seal_key IS NULL OR seal_key <> $1",
    )
    .bind(current)
    .fetch_one(pool)
    .await?;
    Ok((visitors, files))
}
