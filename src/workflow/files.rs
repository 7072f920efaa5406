//! Uploaded files: one way to check an upload's content, write it to the file store and record
//! its row, and one way to read a stored file back. Every upload of the system (unit
//! attachments, group files, scans, letters, templates) goes through [`put`] and [`record`].

use super::error::{Error, Outcome};
use crate::files::{check_pdf, check_scan, check_template, Kind};
use crate::state::AppState;
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

/// An upload whose content was checked and which is written to the file store, not yet
/// recorded in the database.
#[derive(Clone, Debug)]
pub struct Stored {
    pub sha256: String,
    pub size: i64,
    pub kind: Kind,
    pub name: String,
}

/// Checks the upload's content (not its name) and writes it to the file store. A refusal names
/// `field`, the form field the message is shown beside.
pub async fn put(
    state: &AppState,
    upload: &Upload,
    accept: Accept,
    field: &str,
) -> Outcome<Stored> {
    let checked = match accept {
        Accept::Pdf => check_pdf(&upload.bytes),
        Accept::Scan => check_scan(&upload.bytes),
        Accept::Template => check_template(&upload.bytes),
    };
    let kind = checked.map_err(|e| Error::invalid(field, e.to_string()))?;
    let sha256 = state.files.put(&upload.bytes).await?;
    Ok(Stored {
        sha256,
        size: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
        kind,
        name: upload.name.clone(),
    })
}

/// Records a stored file's row in the caller's transaction; returns its id.
pub async fn record(conn: &mut Conn, stored: &Stored, by: Option<i64>, now: i64) -> Outcome<i64> {
    Ok(reference::insert_file(
        conn,
        &stored.sha256,
        stored.size,
        stored.kind.mime(),
        &stored.name,
        by,
        now,
    )
    .await?)
}

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
