//! The sealing job (issue 18): seals what is not sealed under the current data key — values
//! and files written in clear by a version before the sealing, and, after `laihua keys rotate`
//! added a key, everything sealed under an older one. Runs at start-up and hourly in every
//! serving instance, and in `laihua keys rotate` itself, while the system serves:
//! - a visitor's columns are written back only if unchanged since they were read (an edit
//!   meanwhile sealed them itself);
//! - a file is replaced at once (readers get the old or the new sealed content, both open)
//!   while its file lock is held, so that it cannot be removed meanwhile, and only when a row
//!   still references it.

use crate::db::Db;
use crate::files::FileStore;
use crate::keys::KeyRing;
use crate::store::{file_locks, sealed};

/// What a run sealed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sealed {
    pub visitors: usize,
    pub files: usize,
    /// Values or files that could not be opened (damaged, or sealed under a key the key file
    /// lacks), left as they are and logged.
    pub failed: usize,
}

const BATCH: i64 = 500;

/// Seals every visitor and stored file not sealed under the current key.
pub async fn run(db: &Db, files: &FileStore, keys: &KeyRing) -> anyhow::Result<Sealed> {
    let mut done = Sealed::default();
    let current = i64::from(keys.current());
    let mut after = 0;
    loop {
        let batch = sealed::visitors_to_seal(&db.pool, current, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for v in &batch {
            let open = |stored: &str, column: &str, context: &str| {
                sealed::open_value(keys, stored, column, context)
            };
            let plain = (|| {
                Ok::<_, sqlx::Error>((
                    open(&v.passport_no, "passport_no", sealed::PASSPORT_NO)?,
                    open(&v.birth_date, "birth_date", sealed::BIRTH_DATE)?,
                    open(
                        &v.employer_address,
                        "employer_address",
                        sealed::EMPLOYER_ADDRESS,
                    )?,
                ))
            })();
            let (passport, birth, address) = match plain {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(visitor = v.id, "sealing a visitor's data: {e}");
                    done.failed += 1;
                    continue;
                }
            };
            let new = sealed::seal_visitor(keys, &passport, &birth, &address);
            if sealed::reseal_visitor(&db.pool, v, &new).await? {
                done.visitors += 1;
            }
        }
    }
    let mut after = String::new();
    loop {
        let batch = sealed::files_to_seal(&db.pool, current, &after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.clone();
        for sha in &batch {
            // Sealed under the current key already (written by this version, or sealed by
            // another instance): recorded in one statement, without holding a lock over the
            // file's I/O.
            match files.get_raw(sha).await {
                Ok(stored) if crate::keys::Keys::key_of(&stored) == Some(keys.current()) => {
                    sealed::mark_file(&db.pool, sha, i64::from(keys.current())).await?;
                    done.files += 1;
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    // Gone (removed meanwhile) or unreadable: left for the next run.
                    tracing::warn!(sha256 = %sha, "reading a stored file to seal it: {e}");
                    done.failed += 1;
                    continue;
                }
            }
            let mut tx = db.begin().await?;
            file_locks::lock_shared(tx.conn(), sha).await?;
            // Marked first: on SQLite the write takes the lock a removal needs too.
            sealed::mark_file(&mut *tx.conn(), sha, current).await?;
            if file_locks::rows_with(tx.conn(), sha).await? == 0 {
                continue;
            }
            match files.reseal(sha).await {
                Ok(key) => {
                    if i64::from(key) != current {
                        sealed::mark_file(&mut *tx.conn(), sha, i64::from(key)).await?;
                    }
                    tx.commit().await?;
                    done.files += 1;
                }
                Err(e) => {
                    tracing::warn!(sha256 = %sha, "sealing a stored file: {e}");
                    done.failed += 1;
                }
            }
        }
    }
    Ok(done)
}

/// `laihua keys rotate`: adds a new data key to the key file, records its check value and the
/// rotation (in the audit log) in the database, then seals everything under it. Servers keep
/// serving: they read the new key when they meet a value sealed under it, and their hourly run
/// of this job seals what they wrote meanwhile under the old one. Returns the new key's
/// number and what was sealed.
pub async fn rotate(
    db: &Db,
    files: &FileStore,
    keys: &KeyRing,
    now: i64,
) -> anyhow::Result<(u32, Sealed)> {
    let (n, check) = keys.add_data_key()?;
    let mut tx = db.begin().await?;
    crate::store::data_keys::record(tx.conn(), i64::from(n), &check, now).await?;
    crate::store::audit::write(
        tx.conn(),
        &crate::store::Actor::system(),
        now,
        "keys.rotate",
        crate::domain::audit::ObjectType::DataKey,
        &n.to_string(),
        &format!("data{n}"),
    )
    .await?;
    tx.commit().await?;
    let sealed = run(db, files, keys).await?;
    Ok((n, sealed))
}
