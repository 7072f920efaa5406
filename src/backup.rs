//! `laihua backup --to`, `laihua backup --verify` and `laihua restore --from`: a logical copy of
//! the database and of every stored file in one archive, taken while the server serves.
//!
//! Every column of the schema is TEXT or BIGINT (see `db`), so rows written as JSON load into
//! either database: a backup of the embedded SQLite database restores into PostgreSQL and back.
//!
//! The archive is a plain (uncompressed) tar file, readable with the `tar` of any system:
//!
//! ```text
//! header.json                    format, laihua version, source, schema version, the tables
//!                                with their columns, in foreign-key order
//! tables/<table>/<000001>.jsonl  the rows of a table, one JSON array a line, in column order
//!                                (chunks of about 4 MB; an empty table has none)
//! files/<ab>/<cdef…>             every file referenced by a `sha256` column, named by its hash
//! manifest.json                  row counts, the highest id each sequence gave, and the size
//!                                and SHA-256 of every entry above
//! manifest.json.sha256           the SHA-256 of manifest.json
//! ```
//!
//! Tar rather than zip: it is written and read front to back (a backup streams the tables out
//! of one snapshot without holding them in memory), and the `tar` crate is small and pure Rust.
//! No compression: attachments are PDF and JPEG scans, compressed already; an operator may
//! compress the archive.
//!
//! Consistency: every table is read inside one read transaction (SQLite in WAL mode keeps the
//! snapshot of the transaction's first read; PostgreSQL runs it REPEATABLE READ), so the
//! archive holds exactly the transactions committed before that point. A file is written to
//! the store before the row that refers to it commits, and never removed, so every file of the
//! snapshot can be read afterwards; each is checked against its hash. The archive is written
//! under `PATH.partial`, synced and renamed to `PATH` once complete: a backup cut short never
//! carries the final name, and has no manifest.
//!
//! A restore checks the whole archive first and writes nothing if any check fails. It loads
//! into an empty database only (migrated is fine): it brings it to the backup's schema version,
//! inserts every row with its own ids in one transaction (a failed restore leaves the database
//! empty, ready for another attempt), puts every file back through the store and reads it back,
//! moves the id sequences past the highest id the source gave, commits, and applies the
//! migrations this binary has beyond the backup's. Values are copied exactly, so the audit
//! chain verifies on the copy. The file store need not be empty: it is addressed by content,
//! so a file already there under a backup file's hash is kept once read back and found whole
//! (moving from SQLite to PostgreSQL may keep the data folder). No server may run on the
//! target during a restore.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::{Backend, Db};
use crate::files::FileStore;
use crate::store::dump::{self, Column, ColumnType, TableSchema, MIGRATIONS_TABLE};

pub const FORMAT: &str = "laihua-backup";
pub const FORMAT_VERSION: i64 = 1;
const HEADER: &str = "header.json";
const MANIFEST: &str = "manifest.json";
const MANIFEST_SUM: &str = "manifest.json.sha256";
/// A table's rows are cut into entries of about this size.
const CHUNK_BYTES: usize = 4 << 20;
/// No entry of a backup is larger (files are at most 10 MB); a larger one is refused unread.
const MAX_ENTRY: u64 = 256 << 20;

/// The file store `serve` uses (see `app::prepare`): backup reads from it, restore writes to it.
/// Sealed with the keys of the key file when there is one (a restore into a new installation
/// may have none yet: it then cannot open sealed files and says so).
pub fn file_store(config: &Config) -> anyhow::Result<FileStore> {
    let files = FileStore::open(&config.files, &config.data_dir)?;
    if !config.data_key_file.exists() {
        return Ok(files);
    }
    let keys = crate::keys::KeyRing::from_file(&config.data_key_file)?;
    Ok(files.sealed_with(std::sync::Arc::new(keys)))
}

/// The first entry: what the archive holds, before any row.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Header {
    pub format: String,
    pub format_version: i64,
    pub laihua_version: String,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub source_backend: String,
    /// The newest migration applied to the source.
    pub schema_version: i64,
    /// Every migration applied to the source.
    pub migrations: Vec<i64>,
    /// In foreign-key order: a table comes after those it refers to.
    pub tables: Vec<TableSchema>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    pub sha256: String,
    pub size: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub rows: u64,
    pub entries: Vec<String>,
}

/// The last entries: counts and checksums of everything before.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Manifest {
    pub format: String,
    pub format_version: i64,
    pub tables: BTreeMap<String, TableCount>,
    /// Per table, the highest id its sequence ever gave (rows since deleted included), so that
    /// the copy never gives an id again.
    pub sequences: BTreeMap<String, i64>,
    pub files: u64,
    pub file_bytes: u64,
    /// Every entry but the manifest and its checksum.
    pub entries: BTreeMap<String, EntryInfo>,
}

/// A checked archive.
#[derive(Debug)]
pub struct Checked {
    pub header: Header,
    pub manifest: Manifest,
    pub archive_bytes: u64,
}

// ---------------------------------------------------------------------------------------
// Commands

/// `laihua backup --to PATH`.
pub async fn command_backup(config: Config, to: &Path, pause: Duration) -> anyhow::Result<()> {
    // Never create an empty database where the one to back up was expected.
    let url = config.database_url.replace("mode=rwc", "mode=rw");
    let db = Db::connect(&url)
        .await
        .context("connecting to the database")?;
    let files = file_store(&config)?;
    let checked = backup(&db, &files, to, pause)
        .await
        .context("备份失败 / backup failed")?;
    println!("备份完成 / backup written: {}", to.display());
    print_summary(&checked);
    Ok(())
}

/// `laihua backup --verify PATH`.
pub fn command_verify(path: &Path) -> anyhow::Result<()> {
    let checked = verify(path).context("备份校验失败 / the archive does not check out")?;
    println!("备份完好 / backup intact: {}", path.display());
    print_summary(&checked);
    Ok(())
}

/// `laihua restore --from PATH`.
pub async fn command_restore(config: Config, from: &Path) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let db = Db::connect(&config.database_url)
        .await
        .context("connecting to the database")?;
    let files = file_store(&config)?;
    let checked = restore(&db, &files, from)
        .await
        .context("恢复失败 / restore failed")?;
    println!("恢复完成 / restored from {}", from.display());
    print_summary(&checked);
    Ok(())
}

fn print_summary(c: &Checked) {
    println!(
        "  laihua {}, {} {}, schema {}",
        c.header.laihua_version,
        c.header.source_backend,
        c.header.created_at,
        c.header.schema_version
    );
    for t in &c.header.tables {
        let rows = c.manifest.tables.get(&t.name).map_or(0, |n| n.rows);
        println!("  {:<24} {rows:>10} rows", t.name);
    }
    println!(
        "  {:<24} {:>10} ({} bytes)",
        "files", c.manifest.files, c.manifest.file_bytes
    );
    println!("  archive {} bytes", c.archive_bytes);
}

// ---------------------------------------------------------------------------------------
// Backup

/// Writes the archive `to` (which must not exist) from one snapshot of `db` and the files of
/// `files` it refers to. `pause` after each table is a test aid (writes land meanwhile).
pub async fn backup(
    db: &Db,
    files: &FileStore,
    to: &Path,
    pause: Duration,
) -> anyhow::Result<Checked> {
    ensure!(
        !to.exists(),
        "{} exists already: a backup never overwrites a file",
        to.display()
    );
    let partial = partial_path(to);
    // The archive holds password hashes, second-factor keys and the server secret: readable by
    // its owner only.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut writer = ArchiveWriter::new(file);
    let written = write_archive(db, files, &mut writer, pause).await;
    let finished = written.and_then(|(header, manifest)| {
        let bytes = writer.finish()?;
        Ok((header, manifest, bytes))
    });
    match finished {
        Ok((header, manifest, archive_bytes)) => {
            std::fs::rename(&partial, to)
                .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
            sync_dir(to);
            Ok(Checked {
                header,
                manifest,
                archive_bytes,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `PATH.partial`: where a backup is written until it is complete.
pub fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

fn sync_dir(path: &Path) {
    // The rename is durable once the folder is synced (best effort: not every system allows
    // opening a folder).
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

async fn write_archive(
    db: &Db,
    files: &FileStore,
    out: &mut ArchiveWriter,
    pause: Duration,
) -> anyhow::Result<(Header, Manifest)> {
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut tx = dump::begin_snapshot(db).await?;
    // On SQLite this first read starts the snapshot every later read of the transaction sees.
    let names = dump::table_names(&mut tx, db.backend).await?;
    ensure!(
        names.iter().any(|n| n == MIGRATIONS_TABLE),
        "no laihua database here (no table {MIGRATIONS_TABLE})"
    );
    let migrations = dump::applied_migrations(&mut tx).await?;
    let schema = dump::read_schema(&mut tx, db.backend).await?;
    let header = Header {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        laihua_version: env!("CARGO_PKG_VERSION").into(),
        created_at,
        source_backend: match db.backend {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres => "postgres".into(),
        },
        schema_version: migrations.last().copied().unwrap_or(0),
        migrations,
        tables: schema.tables.clone(),
    };
    out.add(HEADER, &serde_json::to_vec_pretty(&header)?)?;

    let mut tables = BTreeMap::new();
    let mut shas = BTreeSet::new();
    for table in &schema.tables {
        let sha_col = table
            .columns
            .iter()
            .position(|c| c.name == "sha256" && c.ty == ColumnType::Text);
        let mut count = TableCount {
            rows: 0,
            entries: vec![],
        };
        let mut buf: Vec<u8> = Vec::new();
        dump::each_row(&mut tx, table, |values| {
            if let Some(Some(sha)) = sha_col.map(|i| values[i].as_str()) {
                shas.insert(sha.to_string());
            }
            serde_json::to_writer(&mut buf, &values)?;
            buf.push(b'\n');
            count.rows += 1;
            if buf.len() >= CHUNK_BYTES {
                out.add_chunk(&table.name, &mut count, &mut buf)?;
            }
            Ok(())
        })
        .await?;
        if !buf.is_empty() {
            out.add_chunk(&table.name, &mut count, &mut buf)?;
        }
        tables.insert(table.name.clone(), count);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let sequences = dump::read_sequences(&mut tx, db.backend, &schema.serial).await?;
    // The snapshot is complete; files are never removed from the store, so those it refers to
    // can be read after it ends.
    tx.rollback().await?;

    let mut file_bytes = 0u64;
    for sha in &shas {
        ensure!(is_sha(sha), "files: {sha:?} is not a SHA-256");
        // The archive holds the files as stored (sealed): a backup is no copy of the scans in
        // clear; restoring it needs the key file, as the sealed columns do.
        let stored = files
            .get_raw(sha)
            .await
            .with_context(|| format!("reading stored file {sha}"))?;
        let plain = files
            .open_stored(sha, stored.clone())
            .with_context(|| format!("opening stored file {sha}"))?;
        ensure!(
            sha256_hex(&plain) == *sha,
            "the stored file {sha} is damaged: its content no longer has that hash"
        );
        file_bytes += stored.len() as u64;
        out.add(&file_entry(sha), &stored)?;
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tables,
        sequences,
        files: shas.len() as u64,
        file_bytes,
        entries: out.entries.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    out.add(MANIFEST, &json)?;
    out.add(MANIFEST_SUM, format!("{}\n", sha256_hex(&json)).as_bytes())?;
    Ok((header, manifest))
}

fn file_entry(sha: &str) -> String {
    format!("files/{}/{}", &sha[..2], &sha[2..])
}

struct ArchiveWriter {
    builder: tar::Builder<BufWriter<std::fs::File>>,
    entries: BTreeMap<String, EntryInfo>,
    mtime: u64,
}

impl ArchiveWriter {
    fn new(file: std::fs::File) -> ArchiveWriter {
        ArchiveWriter {
            builder: tar::Builder::new(BufWriter::with_capacity(1 << 20, file)),
            entries: BTreeMap::new(),
            mtime: chrono::Utc::now().timestamp().max(0) as u64,
        }
    }

    fn add(&mut self, name: &str, data: &[u8]) -> anyhow::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(self.mtime);
        self.builder
            .append_data(&mut h, name, data)
            .with_context(|| format!("writing {name} to the archive"))?;
        if name != MANIFEST && name != MANIFEST_SUM {
            self.entries.insert(
                name.to_string(),
                EntryInfo {
                    sha256: sha256_hex(data),
                    size: data.len() as u64,
                },
            );
        }
        Ok(())
    }

    fn add_chunk(
        &mut self,
        table: &str,
        count: &mut TableCount,
        buf: &mut Vec<u8>,
    ) -> anyhow::Result<()> {
        let name = format!("tables/{table}/{:06}.jsonl", count.entries.len() + 1);
        self.add(&name, buf)?;
        count.entries.push(name);
        buf.clear();
        Ok(())
    }

    /// Ends the archive and syncs it to disk; returns its size.
    fn finish(self) -> anyhow::Result<u64> {
        let file = self
            .builder
            .into_inner()
            .context("ending the archive")?
            .into_inner()
            .map_err(|e| anyhow!("writing the archive: {}", e.error()))?;
        file.sync_all().context("syncing the archive")?;
        Ok(file.metadata()?.len())
    }
}

// ---------------------------------------------------------------------------------------
// Verify

/// Reads the whole archive and checks its structure, every checksum, every row against its
/// table's columns, the row counts, and that every file the rows refer to is there.
pub fn verify(path: &Path) -> anyhow::Result<Checked> {
    let mut checker = Checker::default();
    each_entry(path, |name, data| checker.entry(name, data))?;
    let archive_bytes = std::fs::metadata(path)?.len();
    checker.finish(archive_bytes)
}

#[derive(Default)]
struct Checker {
    header: Option<Header>,
    columns: HashMap<String, (usize, Vec<Column>)>,
    /// Index in the header of the table whose rows came last (rows come in header order).
    last_table: usize,
    seen: BTreeMap<String, EntryInfo>,
    rows: BTreeMap<String, u64>,
    entries_of: BTreeMap<String, Vec<String>>,
    referenced: BTreeSet<String>,
    files: BTreeSet<String>,
    manifest: Option<(Manifest, String)>,
    manifest_sum: Option<String>,
}

impl Checker {
    fn entry(&mut self, name: String, data: Vec<u8>) -> anyhow::Result<()> {
        ensure!(
            self.manifest_sum.is_none(),
            "{name}: entry after the manifest's checksum"
        );
        if name == MANIFEST_SUM {
            ensure!(self.manifest.is_some(), "{name} before {MANIFEST}");
            let text = String::from_utf8(data).map_err(|_| anyhow!("{name}: not text"))?;
            self.manifest_sum = Some(text.trim().to_string());
            return Ok(());
        }
        ensure!(self.manifest.is_none(), "{name}: entry after {MANIFEST}");
        if name == MANIFEST {
            let manifest: Manifest = serde_json::from_slice(&data)
                .map_err(|e| anyhow!("{MANIFEST} is not a valid manifest: {e}"))?;
            self.manifest = Some((manifest, sha256_hex(&data)));
            return Ok(());
        }
        let info = EntryInfo {
            sha256: sha256_hex(&data),
            size: data.len() as u64,
        };
        ensure!(
            !self.seen.contains_key(&name),
            "{name}: the archive holds it twice"
        );
        if name == HEADER {
            ensure!(self.seen.is_empty(), "{HEADER} is not the first entry");
            let header: Header = serde_json::from_slice(&data)
                .map_err(|e| anyhow!("{HEADER} is not a valid header: {e}"))?;
            check_format(&header.format, header.format_version)?;
            for (i, t) in header.tables.iter().enumerate() {
                dump::ident(&t.name)?;
                for c in &t.columns {
                    dump::ident(&c.name)?;
                }
                ensure!(
                    self.columns
                        .insert(t.name.clone(), (i, t.columns.clone()))
                        .is_none(),
                    "{HEADER}: table {} twice",
                    t.name
                );
            }
            self.header = Some(header);
        } else if let Some(rest) = name.strip_prefix("tables/") {
            ensure!(self.header.is_some(), "{name} before {HEADER}");
            ensure!(self.files.is_empty(), "{name}: rows after the files");
            let (table, _) = rest
                .split_once('/')
                .ok_or_else(|| anyhow!("{name}: not a table's entry"))?;
            let (index, columns) = self
                .columns
                .get(table)
                .ok_or_else(|| anyhow!("{name}: rows of a table the header does not list"))?;
            ensure!(
                *index >= self.last_table,
                "{name}: rows out of foreign-key order"
            );
            self.last_table = *index;
            let sha_col = columns
                .iter()
                .position(|c| c.name == "sha256" && c.ty == ColumnType::Text);
            let mut n = 0u64;
            for_each_row(&name, &data, columns, |values| {
                if let Some(Some(sha)) = sha_col.map(|i| values[i].as_str()) {
                    self.referenced.insert(sha.to_string());
                }
                n += 1;
                Ok(())
            })?;
            *self.rows.entry(table.to_string()).or_default() += n;
            self.entries_of
                .entry(table.to_string())
                .or_default()
                .push(name.clone());
        } else if let Some(rest) = name.strip_prefix("files/") {
            ensure!(self.header.is_some(), "{name} before {HEADER}");
            let sha = rest.replacen('/', "", 1);
            ensure!(
                is_sha(&sha) && file_entry(&sha) == name,
                "{name}: not a file's entry"
            );
            // A sealed file (SM4-GCM, bound to its name) is checked against the manifest's
            // hash of the entry here, and opened and hashed at the restore, which has the key
            // file; a file stored in clear by an earlier version has its name's hash.
            ensure!(
                info.sha256 == sha || crate::keys::Keys::is_sealed(&data),
                "{name}: damaged, its content does not have that hash"
            );
            self.files.insert(sha);
        } else {
            bail!("{name}: unexpected entry");
        }
        self.seen.insert(name, info);
        Ok(())
    }

    fn finish(self, archive_bytes: u64) -> anyhow::Result<Checked> {
        let header = self
            .header
            .ok_or_else(|| anyhow!("no {HEADER}: not a laihua backup, or one cut short"))?;
        let (manifest, manifest_sha) = self.manifest.ok_or_else(|| {
            anyhow!("no {MANIFEST}: the archive is incomplete (a backup cut short?)")
        })?;
        let sum = self
            .manifest_sum
            .ok_or_else(|| anyhow!("no {MANIFEST_SUM}: the archive is incomplete"))?;
        ensure!(
            sum == manifest_sha,
            "{MANIFEST} is damaged: its checksum does not match"
        );
        check_format(&manifest.format, manifest.format_version)?;
        for (name, want) in &manifest.entries {
            match self.seen.get(name) {
                None => bail!("{name}: listed in the manifest but missing from the archive"),
                Some(got) if got != want => {
                    bail!("{name}: damaged, its checksum does not match the manifest")
                }
                Some(_) => {}
            }
        }
        if let Some(name) = self
            .seen
            .keys()
            .find(|n| !manifest.entries.contains_key(*n))
        {
            bail!("{name}: in the archive but not in the manifest");
        }
        for t in &header.tables {
            let counted = self.rows.get(&t.name).copied().unwrap_or(0);
            let listed = manifest.tables.get(&t.name).map_or(0, |c| c.rows);
            ensure!(
                counted == listed,
                "table {}: {counted} rows in the archive, {listed} in the manifest",
                t.name
            );
            let entries = self.entries_of.get(&t.name).cloned().unwrap_or_default();
            let listed = manifest
                .tables
                .get(&t.name)
                .map(|c| c.entries.clone())
                .unwrap_or_default();
            ensure!(
                entries == listed,
                "table {}: its entries differ from the manifest's",
                t.name
            );
        }
        if let Some(t) = manifest
            .tables
            .keys()
            .find(|t| !self.columns.contains_key(*t))
        {
            bail!("the manifest counts rows of table {t}, which the header does not list");
        }
        if let Some(sha) = self.referenced.iter().find(|s| !self.files.contains(*s)) {
            bail!(
                "the file {sha} is referenced by a row but missing from the archive ({})",
                file_entry_or_raw(sha)
            );
        }
        ensure!(
            self.files.len() as u64 == manifest.files,
            "{} files in the archive, {} in the manifest",
            self.files.len(),
            manifest.files
        );
        Ok(Checked {
            header,
            manifest,
            archive_bytes,
        })
    }
}

fn file_entry_or_raw(sha: &str) -> String {
    if is_sha(sha) {
        file_entry(sha)
    } else {
        sha.to_string()
    }
}

fn check_format(format: &str, version: i64) -> anyhow::Result<()> {
    ensure!(format == FORMAT, "not a laihua backup (format {format:?})");
    ensure!(
        (1..=FORMAT_VERSION).contains(&version),
        "backup format {version} is newer than this laihua reads ({FORMAT_VERSION}): use a newer laihua"
    );
    Ok(())
}

/// Calls `f` with the values of each row of a table's entry, checked against its columns.
fn for_each_row(
    name: &str,
    data: &[u8],
    columns: &[Column],
    mut f: impl FnMut(Vec<Value>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    ensure!(
        data.last() == Some(&b'\n'),
        "{name}: does not end with a whole row"
    );
    for (i, line) in data[..data.len() - 1].split(|b| *b == b'\n').enumerate() {
        let values: Vec<Value> =
            serde_json::from_slice(line).map_err(|e| anyhow!("{name}: row {}: {e}", i + 1))?;
        ensure!(
            values.len() == columns.len(),
            "{name}: row {}: {} values for {} columns",
            i + 1,
            values.len(),
            columns.len()
        );
        for (v, c) in values.iter().zip(columns) {
            let fits = match c.ty {
                ColumnType::Bigint => v.is_null() || v.is_i64(),
                ColumnType::Text => v.is_null() || v.is_string(),
            };
            ensure!(
                fits,
                "{name}: row {}: {} is not a {:?}",
                i + 1,
                c.name,
                c.ty
            );
        }
        f(values)?;
    }
    Ok(())
}

/// Reads the archive front to back, handing each entry with its content to `f`.
fn each_entry(
    path: &Path,
    mut f: impl FnMut(String, Vec<u8>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    for entry in archive.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive (damaged or cut short)")?;
        let name = entry
            .path()
            .context("an entry's name")?
            .to_str()
            .ok_or_else(|| anyhow!("an entry's name is not UTF-8"))?
            .to_string();
        ensure!(
            entry.header().entry_type() == tar::EntryType::Regular,
            "{name}: not a regular file"
        );
        let size = entry.header().size()?;
        ensure!(size <= MAX_ENTRY, "{name}: {size} bytes, too large");
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("reading {name}"))?;
        ensure!(
            data.len() as u64 == size,
            "{name}: cut short ({} of {size} bytes)",
            data.len()
        );
        f(name, data)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Restore

/// Loads the archive `from` into the empty database `db` and the store `files`.
pub async fn restore(db: &Db, files: &FileStore, from: &Path) -> anyhow::Result<Checked> {
    // Everything is checked before anything is written.
    let path = from.to_path_buf();
    let checked = tokio::task::spawn_blocking(move || verify(&path))
        .await
        .context("checking the archive")??;
    let header = &checked.header;
    let ours = crate::db::migration_versions();
    let latest = ours.last().copied().unwrap_or(0);
    ensure!(
        header.schema_version <= latest,
        "the backup's schema (version {}) is newer than this laihua's ({latest}): restore with the laihua that made it, or a newer one",
        header.schema_version
    );
    let expected: Vec<i64> = ours
        .iter()
        .copied()
        .filter(|v| *v <= header.schema_version)
        .collect();
    ensure!(
        expected == header.migrations,
        "the backup's migrations {:?} are not this laihua's {expected:?}",
        header.migrations
    );

    // The target: nothing but (perhaps) the schema.
    {
        let mut conn = db.pool.acquire().await?;
        let names = dump::table_names(&mut conn, db.backend).await?;
        if !names.is_empty() {
            ensure!(
                names.iter().any(|n| n == MIGRATIONS_TABLE),
                "the target database is not empty: it holds tables ({}) but no laihua schema",
                names.join(", ")
            );
            let applied = dump::applied_migrations(&mut conn).await?;
            if let Some(v) = applied.iter().find(|v| **v > header.schema_version) {
                bail!(
                    "the target database has migration {v}, newer than the backup's schema ({}): restore into a new empty database",
                    header.schema_version
                );
            }
            let schema = dump::read_schema(&mut conn, db.backend).await?;
            refuse_data(&mut conn, &schema).await?;
        }
    }
    db.migrate_to(header.schema_version)
        .await
        .context("preparing the schema")?;

    let mut tx = db.begin().await?;
    let schema = dump::read_schema(tx.conn(), db.backend).await?;
    refuse_data(tx.conn(), &schema).await?;
    same_schema(&schema.tables, &header.tables)?;
    // Rows the migrations inserted make way for the backup's.
    dump::clear_migration_rows(tx.conn(), &schema).await?;
    let columns: HashMap<&str, &[Column]> = header
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.columns.as_slice()))
        .collect();

    // Second pass over the archive, from a reading thread.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(String, Vec<u8>)>(2);
    let path = from.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || {
        each_entry(&path, |name, data| {
            sender
                .blocking_send((name, data))
                .map_err(|_| anyhow!("restore stopped"))
        })
    });
    let mut rows_loaded: BTreeMap<String, u64> = BTreeMap::new();
    let mut files_put = 0u64;
    let mut failure: Option<anyhow::Error> = None;
    while let Some((name, data)) = receiver.recv().await {
        if let Err(e) = load_entry(
            tx.conn(),
            files,
            &checked.manifest,
            &columns,
            &name,
            &data,
            &mut rows_loaded,
            &mut files_put,
        )
        .await
        {
            failure = Some(e);
            break;
        }
    }
    drop(receiver);
    let read = reader.await.context("reading the archive")?;
    if let Some(e) = failure {
        return Err(e);
    }
    read?;
    for t in &header.tables {
        let want = checked.manifest.tables.get(&t.name).map_or(0, |c| c.rows);
        let got = rows_loaded.get(&t.name).copied().unwrap_or(0);
        ensure!(
            want == got,
            "table {}: {got} rows loaded, {want} expected",
            t.name
        );
    }
    ensure!(
        files_put == checked.manifest.files,
        "{files_put} files stored, {} expected",
        checked.manifest.files
    );
    dump::restore_sequences(
        tx.conn(),
        db.backend,
        &schema.serial,
        &checked.manifest.sequences,
    )
    .await?;
    tx.commit().await.context("committing the restore")?;
    db.migrate().await.context("applying newer migrations")?;
    Ok(checked)
}

#[allow(clippy::too_many_arguments)]
async fn load_entry(
    conn: &mut sqlx::AnyConnection,
    files: &FileStore,
    manifest: &Manifest,
    columns: &HashMap<&str, &[Column]>,
    name: &str,
    data: &[u8],
    rows_loaded: &mut BTreeMap<String, u64>,
    files_put: &mut u64,
) -> anyhow::Result<()> {
    if name == MANIFEST || name == MANIFEST_SUM {
        return Ok(());
    }
    // The archive was checked; it must not have changed since.
    let want = manifest
        .entries
        .get(name)
        .ok_or_else(|| anyhow!("{name}: not in the manifest"))?;
    ensure!(
        sha256_hex(data) == want.sha256,
        "{name}: the archive changed while it was restored"
    );
    if let Some(rest) = name.strip_prefix("tables/") {
        let (table, _) = rest
            .split_once('/')
            .ok_or_else(|| anyhow!("{name}: not a table's entry"))?;
        let cols = columns
            .get(table)
            .ok_or_else(|| anyhow!("{name}: unknown table"))?;
        let mut rows = Vec::new();
        for_each_row(name, data, cols, |values| {
            rows.push(values);
            Ok(())
        })?;
        dump::insert_rows(conn, table, cols, &rows)
            .await
            .with_context(|| format!("loading {name}"))?;
        *rows_loaded.entry(table.to_string()).or_default() += rows.len() as u64;
    } else if let Some(rest) = name.strip_prefix("files/") {
        let sha = rest.replacen('/', "", 1);
        ensure!(is_sha(&sha), "{name}: not a file's entry");
        files
            .put_raw_as(&sha, data.to_vec())
            .await
            .with_context(|| format!("storing file {sha}"))?;
        // A file already in the store under that name is kept: make sure it is whole. A sealed
        // file opens only with the key file of the installation the backup was taken from.
        let back = files.get(&sha).await.with_context(|| {
            format!(
                "reading back file {sha}: a sealed file opens only with the key file of the \
                 installation the backup was taken from (copy it first; see --data-key-file)"
            )
        })?;
        ensure!(
            sha256_hex(&back) == sha,
            "the file store already holds a damaged file under {sha}: remove it and restore again"
        );
        *files_put += 1;
    }
    Ok(())
}

/// Refuses a database that holds data (rows the migrations insert aside).
async fn refuse_data(conn: &mut sqlx::AnyConnection, schema: &dump::Schema) -> anyhow::Result<()> {
    let full = dump::tables_with_data(conn, schema).await?;
    ensure!(
        full.is_empty(),
        "目标数据库不是空的 / the target database is not empty: {}. Restore only into a new, empty database.",
        full.iter()
            .map(|(t, n)| format!("{t} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// The target's tables and columns must be the backup's (same schema version).
fn same_schema(target: &[TableSchema], backup: &[TableSchema]) -> anyhow::Result<()> {
    let as_map = |ts: &[TableSchema]| -> BTreeMap<String, BTreeSet<Column>> {
        ts.iter()
            .map(|t| (t.name.clone(), t.columns.iter().cloned().collect()))
            .collect()
    };
    let (a, b) = (as_map(target), as_map(backup));
    for (name, cols) in &b {
        match a.get(name) {
            None => bail!("the backup has table {name}, the target database has not"),
            Some(c) if c != cols => {
                bail!("table {name}: the target's columns differ from the backup's")
            }
            Some(_) => {}
        }
    }
    if let Some(name) = a.keys().find(|n| !b.contains_key(*n)) {
        bail!("the target database has table {name}, the backup has not");
    }
    Ok(())
}

fn is_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_against_their_columns() {
        let cols = vec![
            Column {
                name: "id".into(),
                ty: ColumnType::Bigint,
            },
            Column {
                name: "name".into(),
                ty: ColumnType::Text,
            },
        ];
        let mut n = 0;
        for_each_row("t", b"[1,\"a\"]\n[2,null]\n", &cols, |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2);
        for bad in [
            &b"[1,\"a\"]"[..],
            b"[1]\n",
            b"[\"1\",\"a\"]\n",
            b"[1.5,\"a\"]\n",
            b"[1,2]\n",
        ] {
            assert!(for_each_row("t", bad, &cols, |_| Ok(())).is_err());
        }
    }
}
