//! Uploaded files: one way to check an upload's content, write it to the file store and record
//! its row, and one way to read a stored file back. Every upload of the system (unit
//! attachments, group files, scans, letters, templates) is checked by [`check`] before any
//! transaction and stored by [`store`] inside the transaction that links it to its record,
//! after that transaction's conditional write has claimed the record: an upload refused because
//! the record moved on meanwhile writes no file.
//!
//! No file outlives a transaction that failed (no orphans). Files are named by their content,
//! so two uploads of the same bytes share one file, and a file may be removed only when no
//! committed row references it and no transaction that is storing a row for it is still open.
//! The rule, on both databases:
//! - A transaction that stores a row for the file `sha` holds the *file lock* of `sha` from
//!   before it writes the file until it ends: PostgreSQL a shared transaction-level advisory
//!   lock; SQLite its write lock (the row is inserted before the file is written).
//! - The file is removed only by a holder of the exclusive file lock (PostgreSQL the exclusive
//!   advisory lock, SQLite the write lock) that finds no row referencing it.
//!
//! So a file cannot be removed between an upload's write and its commit, whichever instance
//! uploads, and an upload that finds the file gone writes it again. An upload that found no
//! file (and so creates it) checks, once its transaction has ended ([`remove_if_unreferenced`]
//! waits for the lock), whether a row of it committed, and removes the file when not; when a
//! concurrent upload of the same bytes committed a row, the file stays. An upload that found
//! the file already stored never removes it. What a crash left between write and commit is removed
//! by [`sweep_orphans`] (at start-up, then hourly), only past `--orphan-file-age-secs` (an
//! older version of the server does not take the lock).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use super::error::{Error, Outcome};
use crate::db::Db;
use crate::files::{check_pdf, check_scan, check_template, sha256_hex, FileStore, Kind};
use crate::state::AppState;
use crate::store::file_locks;
use crate::store::reference::{self, FileMeta};
use crate::store::Conn;

/// A file as the browser sent it.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The name on the user's computer.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What content an upload may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// A PDF (unit attachments, the stamped form, proofs, the letter).
    Pdf,
    /// A PDF, JPEG or PNG scan (passports, visas, entry and exit stamps).
    Scan,
    /// A template for download (PDF, Word, Excel).
    Template,
}

/// An upload whose content was checked, not yet written anywhere.
#[derive(Clone, Copy, Debug)]
pub struct Checked<'a> {
    upload: &'a Upload,
    kind: Kind,
}

/// Checks the upload's content (not its name). A refusal names `field`, the form field the
/// message is shown beside. Nothing is written.
pub fn check<'a>(upload: &'a Upload, accept: Accept, field: &str) -> Outcome<Checked<'a>> {
    let checked = match accept {
        Accept::Pdf => check_pdf(&upload.bytes),
        Accept::Scan => check_scan(&upload.bytes),
        Accept::Template => check_template(&upload.bytes),
    };
    let kind = checked.map_err(|e| Error::invalid(field, e.to_string()))?;
    Ok(Checked { upload, kind })
}

/// Writes a checked upload to the file store and records its row in the caller's transaction;
/// returns its id. Callers call it after the conditional write that made sure the record the
/// file belongs to may still take it (and holds that record's row until the commit). The file
/// is complete before the row can commit; when this upload created it and the transaction does
/// not commit, the file is removed once the transaction has ended (see the module's rule).
pub async fn store(
    state: &AppState,
    conn: &mut Conn,
    file: Checked<'_>,
    by: Option<i64>,
    now: i64,
) -> Outcome<i64> {
    let bytes = &file.upload.bytes;
    let sha256 = sha256_hex(bytes);
    file_locks::lock_shared(conn, &sha256).await?;
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let id = reference::insert_file(
        conn,
        &sha256,
        size,
        file.kind.mime(),
        &file.upload.name,
        by,
        now,
    )
    .await?;
    // The check is started before the write, so that a request cut short during the write
    // (a client gone, a shutdown) still gets it; it waits for this transaction to end.
    if !state.files.exists(&sha256).await? {
        spawn_remove_if_uncommitted(state, sha256.clone());
    }
    // Written sealed now: recorded under its key (a file stored before is checked by the
    // sealing job).
    if let Some(key) = state.files.put_sealed(&sha256, bytes).await? {
        crate::store::sealed::mark_file(&mut *conn, &sha256, i64::from(key)).await?;
    }
    Ok(id)
}

/// Writes `bytes` to the store inside the caller's transaction, which then inserts its row
/// (the seed's templates, the data generator's files): [`store`] for callers that insert
/// their own row. Returns the hex SHA-256.
pub async fn put_in_transaction(
    conn: &mut Conn,
    files: &FileStore,
    bytes: &[u8],
) -> std::io::Result<String> {
    let sha = sha256_hex(bytes);
    file_locks::lock_shared(conn, &sha)
        .await
        .map_err(std::io::Error::other)?;
    files.put_as(&sha, bytes).await?;
    Ok(sha)
}

/// How long the check after an upload waits for its transaction to end before leaving the
/// file to the orphan sweep.
const UPLOAD_END_WAIT: Duration = Duration::from_secs(600);

/// Once the uploading transaction has ended, removes the file it is creating unless a
/// committed row references it. Runs on its own: a request cut short still gets its check.
fn spawn_remove_if_uncommitted(state: &AppState, sha: String) {
    let db = state.db.clone();
    let files = state.files.clone();
    tokio::spawn(async move {
        match remove_if_unreferenced(&db, &files, &sha, UPLOAD_END_WAIT).await {
            Ok(Removal::Removed) => {
                tracing::info!(sha256 = %sha, "removed the file of an upload that did not commit")
            }
            Ok(Removal::Kept) => {}
            Ok(Removal::Busy) => {
                tracing::warn!(sha256 = %sha, "upload still open; leaving its file to the orphan sweep")
            }
            Err(e) => {
                tracing::warn!(sha256 = %sha, "checking an upload's file: {e:#}; leaving it to the orphan sweep")
            }
        }
    });
}

/// What [`remove_if_unreferenced`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// No row referenced the file: removed.
    Removed,
    /// A committed row references it.
    Kept,
    /// A transaction storing it stayed open longer than the wait.
    Busy,
}

/// Removes the file `sha` if no committed row references it, holding the exclusive file lock
/// (waiting up to `wait` for the transactions that are storing it to end).
pub async fn remove_if_unreferenced(
    db: &Db,
    files: &FileStore,
    sha: &str,
    wait: Duration,
) -> anyhow::Result<Removal> {
    let give_up = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(10);
    loop {
        let mut tx = db.begin().await?;
        // Polled rather than waited for, so that no pooled connection sits waiting.
        if file_locks::try_lock_exclusive(tx.conn(), sha).await? {
            if file_locks::rows_with(tx.conn(), sha).await? > 0 {
                return Ok(Removal::Kept);
            }
            files.delete(sha).await?;
            tx.commit().await?;
            return Ok(Removal::Removed);
        }
        drop(tx);
        if tokio::time::Instant::now() + pause > give_up {
            return Ok(Removal::Busy);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// How old a file without a row must be before [`sweep_orphans`] removes it
/// (`--orphan-file-age-secs`; 0 means the default, an hour).
pub fn orphan_min_age(state: &AppState) -> Duration {
    match state.config.serve.orphan_file_age_secs {
        0 => Duration::from_secs(3600),
        s => Duration::from_secs(s),
    }
}

/// Removes stored files that no row references and that are older than `min_age` (a crash
/// between write and commit, an older version's failed upload). Returns how many it removed.
pub async fn sweep_orphans(db: &Db, files: &FileStore, min_age: Duration) -> anyhow::Result<usize> {
    let stored = files.list().await?;
    let referenced: HashSet<String> = file_locks::referenced(&db.pool)
        .await?
        .into_iter()
        .collect();
    let now = SystemTime::now();
    let mut removed = 0;
    for f in stored {
        let age = now.duration_since(f.modified).unwrap_or_default();
        if age < min_age || referenced.contains(&f.sha256) {
            continue;
        }
        if remove_if_unreferenced(db, files, &f.sha256, Duration::from_secs(5)).await?
            == Removal::Removed
        {
            removed += 1;
        }
    }
    Ok(removed)
}

/// The orphan sweep at start-up and then hourly.
/// A stored file's description and content. Callers have checked that the principal may see
/// the record the file belongs to.
pub async fn read(state: &AppState, file_id: i64) -> Outcome<(FileMeta, Vec<u8>)> {
    let meta = reference::file(state.pool(), file_id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = state.files.get(&meta.sha256).await?;
    Ok((meta, bytes))
}

/// The template of an attachment type: its name, MIME type and content (public: templates are
/// blank forms).
pub async fn template(state: &AppState, type_id: i64) -> Outcome<(String, String, Vec<u8>)> {
    let (name, sha, mime) = reference::template_file(state.pool(), type_id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = state.files.get(&sha).await?;
    Ok((name, mime, bytes))
}
