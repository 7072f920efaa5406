//! The keys that protect personal data (issue 18): kept in a key file outside the database
//! (`--data-key-file`, `LAIHUA_DATA_KEY_FILE`; by default `keys/data.key` in the data folder,
//! mode 0600), created at the first start, never logged.
//!
//! - **Data keys** (SM4, 128 bits), numbered: sealing uses the current one, opening reads the
//!   number from the sealed value, so values sealed under an older key still open during and
//!   after a rotation.
//! - **Index key** (HMAC-SM3): the keyed index of exact-match fields (passport numbers), so a
//!   search finds a visitor without the number being stored in clear.
//! - **Audit key** (HMAC-SM3): the keyed part of the audit chain, so that someone who can write
//!   to the database cannot recompute the chain after altering an entry.
//!
//! The database holds a check value of each data key (an HMAC-SM3 of a fixed text, which tells
//! nothing of the key): a server started with a missing or different key file refuses to start
//! rather than create a new key and write data nobody could read with the old one.
//!
//! Sealing is SM4-GCM (GB/T 32907 block cipher in the GCM mode of GB/T 36624 / NIST SP 800-38D)
//! with a random 96-bit nonce per value; the key number and the nonce are stored with the value.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sm3::Sm3;
use sm4::cipher::consts::U12;
use sm4::Sm4;

type Sm4Gcm = AesGcm<Sm4, U12>;
type HmacSm3 = Hmac<Sm3>;

/// The first bytes of a sealed value: format 1.
const MAGIC: &[u8; 4] = b"LHK1";
/// Magic, key number (u32, big-endian), nonce.
const HEADER: usize = 4 + 4 + 12;
/// The text sealed values start with (base64 of the sealed bytes follows).
const TEXT_PREFIX: &str = "sm4gcm:";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0}: {1}")]
    File(PathBuf, String),
    #[error("a sealed value is damaged or was sealed under another key")]
    Open,
    #[error("the value was sealed under key {0}, which the key file does not hold")]
    Missing(u32),
}

/// The keys of this installation.
#[derive(Clone)]
pub struct Keys {
    data: BTreeMap<u32, [u8; 16]>,
    current: u32,
    index: [u8; 32],
    audit: [u8; 32],
    /// The hash of the audit chain's head when the keys were made: every entry written after
    /// it carries a keyed link (so links stripped from the database are found missing).
    audit_from: Option<String>,
    path: PathBuf,
}

// Never print a key: `{:?}` of the state or the configuration must not leak them.
impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("path", &self.path)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

fn hex_key<const N: usize>(path: &Path, line: usize, s: &str) -> Result<[u8; N], KeyError> {
    let bad = || {
        KeyError::File(
            path.into(),
            format!("line {line}: not a {}-byte hex key", N),
        )
    };
    let v = hex::decode(s.trim()).map_err(|_| bad())?;
    v.try_into().map_err(|_| bad())
}

impl Keys {
    /// The default place of the key file: `keys/data.key` in the data folder.
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("data.key")
    }

    /// Reads the key file, or creates it with fresh keys when it does not exist and `create`
    /// gives the audit chain's head hash (the server's first start on a database without
    /// keys).
    pub fn load_or_create(path: &Path, create: Option<&str>) -> Result<Keys, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create.is_some() => {
                let keys = Keys {
                    data: BTreeMap::from([(1, random())]),
                    current: 1,
                    index: random(),
                    audit: random(),
                    audit_from: create.map(str::to_string),
                    path: path.into(),
                };
                keys.write()?;
                Ok(keys)
            }
            Err(e) => Err(KeyError::File(path.into(), e.to_string())),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Keys, KeyError> {
        let mut data = BTreeMap::new();
        let (mut current, mut index, mut audit) = (None, None, None);
        let mut audit_from = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = i + 1;
            let (name, value) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| KeyError::File(path.into(), format!("line {n}: no value")))?;
            let value = value.trim();
            match name {
                "index" => index = Some(hex_key::<32>(path, n, value)?),
                "audit" => audit = Some(hex_key::<32>(path, n, value)?),
                "audit_from" => audit_from = Some(value.to_string()),
                "current" => {
                    current = Some(value.parse::<u32>().map_err(|_| {
                        KeyError::File(path.into(), format!("line {n}: not a key number"))
                    })?)
                }
                _ => {
                    let number = name
                        .strip_prefix("data")
                        .and_then(|v| v.parse::<u32>().ok())
                        .ok_or_else(|| {
                            KeyError::File(path.into(), format!("line {n}: unknown entry {name}"))
                        })?;
                    data.insert(number, hex_key::<16>(path, n, value)?);
                }
            }
        }
        let missing = |what: &str| KeyError::File(path.into(), format!("no {what} entry"));
        let current = current.ok_or_else(|| missing("current"))?;
        if !data.contains_key(&current) {
            return Err(KeyError::File(
                path.into(),
                format!("the current key data{current} is not in the file"),
            ));
        }
        Ok(Keys {
            data,
            current,
            index: index.ok_or_else(|| missing("index"))?,
            audit: audit.ok_or_else(|| missing("audit"))?,
            audit_from,
            path: path.into(),
        })
    }

    /// Writes the key file: a temporary file with mode 0600 in the same folder (0700), synced,
    /// renamed over the old one, and the folder synced.
    fn write(&self) -> Result<(), KeyError> {
        let err = |e: std::io::Error| KeyError::File(self.path.clone(), e.to_string());
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut text = String::from(
            "# laihua data keys (issue 18). Keep secret, mode 0600; back up apart from the\n\
             # database backups: without this file the encrypted personal data cannot be read.\n",
        );
        for (n, k) in &self.data {
            text.push_str(&format!("data{n} {}\n", hex::encode(k)));
        }
        text.push_str(&format!("current {}\n", self.current));
        text.push_str(&format!("index {}\n", hex::encode(self.index)));
        text.push_str(&format!("audit {}\n", hex::encode(self.audit)));
        if let Some(from) = &self.audit_from {
            text.push_str(&format!("audit_from {from}\n"));
        }
        let tmp = dir.join(format!(".data.key.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        let written = (|| {
            let mut f = options.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            std::fs::File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(err)
    }

    /// Adds a new data key and makes it the current one (the file is rewritten); values sealed
    /// under the older keys still open. Returns the new key's number.
    pub fn add_data_key(&mut self) -> Result<u32, KeyError> {
        let n = self.data.keys().max().copied().unwrap_or(0) + 1;
        self.data.insert(n, random());
        let before = self.current;
        self.current = n;
        if let Err(e) = self.write() {
            self.data.remove(&n);
            self.current = before;
            return Err(e);
        }
        Ok(n)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of the key new values are sealed under.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// The numbers of the data keys held.
    pub fn data_key_numbers(&self) -> Vec<u32> {
        self.data.keys().copied().collect()
    }

    /// The check value of data key `n` kept in the database: HMAC-SM3 under the key of a fixed
    /// text.
    pub fn check_value(&self, n: u32) -> Option<String> {
        let key = self.data.get(&n)?;
        let mut mac = <HmacSm3 as Mac>::new_from_slice(key).ok()?;
        mac.update(b"laihua data key check");
        Some(hex::encode(mac.finalize().into_bytes()))
    }

    /// Seals `plain` under the current data key; `context` (e.g. "visitors.passport_no") is
    /// authenticated with it, so a value copied into another column does not open there.
    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        let n = self.current;
        // `parse` and `add_data_key` keep the current key in `data`.
        let key = &self.data[&n];
        let cipher = Sm4Gcm::new(key.into());
        let nonce: [u8; 12] = random();
        let mut out = Vec::with_capacity(HEADER + plain.len() + 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = [MAGIC.as_slice(), &n.to_be_bytes(), context.as_bytes()].concat();
        // Encryption with a valid key and nonce size cannot fail (only for > 64 GiB inputs).
        let sealed = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        out.extend_from_slice(&sealed);
        out
    }

    /// Whether `bytes` look sealed (they start with the format's magic).
    pub fn is_sealed(bytes: &[u8]) -> bool {
        bytes.len() >= HEADER + 16 && bytes.starts_with(MAGIC)
    }

    /// The number of the key `sealed` was sealed under.
    pub fn key_of(sealed: &[u8]) -> Option<u32> {
        if !Self::is_sealed(sealed) {
            return None;
        }
        Some(u32::from_be_bytes([
            sealed[4], sealed[5], sealed[6], sealed[7],
        ]))
    }

    /// Opens a value sealed by [`Keys::seal`] with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, KeyError> {
        let n = Self::key_of(sealed).ok_or(KeyError::Open)?;
        let key = self.data.get(&n).ok_or(KeyError::Missing(n))?;
        let cipher = Sm4Gcm::new(key.into());
        let nonce: [u8; 12] = sealed[8..HEADER].try_into().map_err(|_| KeyError::Open)?;
        let aad = [MAGIC.as_slice(), &n.to_be_bytes(), context.as_bytes()].concat();
        cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Open)
    }

    /// A text column's sealed form: `sm4gcm:` and the base64 of the sealed bytes.
    pub fn seal_text(&self, plain: &str, context: &str) -> String {
        use base64::Engine;
        let sealed = self.seal(plain.as_bytes(), context);
        format!(
            "{TEXT_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed)
        )
    }

    /// Whether a text column's value is sealed.
    pub fn is_sealed_text(s: &str) -> bool {
        s.starts_with(TEXT_PREFIX)
    }

    /// The number of the key a sealed text was sealed under.
    pub fn key_of_text(s: &str) -> Option<u32> {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(s.strip_prefix(TEXT_PREFIX)?)
            .ok()?;
        Self::key_of(&b)
    }

    /// Opens a text sealed by [`Keys::seal_text`].
    pub fn open_text(&self, s: &str, context: &str) -> Result<String, KeyError> {
        use base64::Engine;
        let b64 = s.strip_prefix(TEXT_PREFIX).ok_or(KeyError::Open)?;
        let sealed = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| KeyError::Open)?;
        String::from_utf8(self.open(&sealed, context)?).map_err(|_| KeyError::Open)
    }

    /// The keyed index of an exact-match value (HMAC-SM3 under the index key, hex): equal
    /// values give equal indexes, and the index tells nothing of the value without the key.
    /// `kind` separates the indexes of different fields.
    pub fn index(&self, kind: &str, value: &str) -> String {
        let mut mac =
            <HmacSm3 as Mac>::new_from_slice(&self.index).expect("HMAC takes a key of any length");
        mac.update(&(kind.len() as u64).to_le_bytes());
        mac.update(kind.as_bytes());
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The hash of the audit chain's head when the keys were made (see the field).
    pub fn audit_from(&self) -> Option<&str> {
        self.audit_from.as_deref()
    }

    /// The keyed link of the audit chain: HMAC-SM3 under the audit key of the previous link
    /// and the entry's hash.
    pub fn audit_link(&self, prev: &str, entry_hash: &str) -> String {
        let mut mac =
            <HmacSm3 as Mac>::new_from_slice(&self.audit).expect("HMAC takes a key of any length");
        mac.update(&(prev.len() as u64).to_le_bytes());
        mac.update(prev.as_bytes());
        mac.update(entry_hash.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Keys for tests: fixed, never written.
    pub fn for_tests() -> Keys {
        Keys {
            data: BTreeMap::from([(1, [7u8; 16])]),
            current: 1,
            index: [8u8; 32],
            audit: [9u8; 32],
            audit_from: None,
            path: PathBuf::from("(test keys)"),
        }
    }
}

/// The keys of a running server: read at start-up, checked against the database's check
/// values, and read again when a value sealed under a key it does not hold turns up (a
/// `laihua keys rotate` run by another process added it).
pub struct KeyRing {
    path: PathBuf,
    keys: std::sync::RwLock<std::sync::Arc<Keys>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Reads (or, on a database that has no key yet, creates) the key file and checks it
    /// against the database: every key the database knows must be in the file with the same
    /// check value; keys of the file the database does not know yet are recorded.
    pub async fn open(db: &crate::db::Db, path: &Path, now: i64) -> anyhow::Result<KeyRing> {
        let known = checks(&db.pool).await?;
        let head = crate::store::data_keys::audit_head(&db.pool).await?;
        let create = known.is_empty().then_some(head.as_str());
        let keys = Keys::load_or_create(path, create).map_err(|e| {
            if known.is_empty() {
                anyhow::anyhow!("{e}")
            } else {
                anyhow::anyhow!(
                    "{e}: 数据库中的个人信息以该密钥文件中的密钥加密，找不到或无法读取该文件，系统不能启动。\
                     请从单独保管处恢复密钥文件，或用 --data-key-file / LAIHUA_DATA_KEY_FILE 指定其位置 / \
                     the database's personal data is encrypted under the keys of this file: restore it from \
                     where it is kept apart from the backups, or point --data-key-file at it"
                )
            }
        })?;
        for n in keys.data_key_numbers() {
            if let Some(check) = keys.check_value(n) {
                crate::store::data_keys::record(&db.pool, i64::from(n), &check, now).await?;
            }
        }
        // Read again: another instance may have recorded its own first key meanwhile.
        let known = checks(&db.pool).await?;
        verify(&keys, &known)?;
        let keys = std::sync::Arc::new(keys);
        if let Some((_, installation)) = known.first() {
            register_installation(installation, keys.clone());
        }
        Ok(KeyRing {
            path: path.into(),
            keys: std::sync::RwLock::new(keys),
        })
    }

    /// The keys as they are now.
    pub fn get(&self) -> std::sync::Arc<Keys> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the key file again (after a rotation by another process); the keys held so far
    /// must still be in it.
    pub fn reload(&self) -> Result<std::sync::Arc<Keys>, KeyError> {
        let fresh = Keys::load_or_create(&self.path, None)?;
        let old = self.get();
        for n in old.data_key_numbers() {
            if fresh.check_value(n) != old.check_value(n) {
                return Err(KeyError::File(
                    self.path.clone(),
                    format!("key data{n} changed or disappeared"),
                ));
            }
        }
        let fresh = std::sync::Arc::new(fresh);
        match self.keys.write() {
            Ok(mut k) => *k = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A ring of the key file `path` alone, not checked against a database (a restore, which
    /// loads the check values from the archive). The file must exist.
    pub fn from_file(path: &Path) -> Result<KeyRing, KeyError> {
        let keys = Keys::load_or_create(path, None)?;
        Ok(KeyRing {
            path: path.into(),
            keys: std::sync::RwLock::new(std::sync::Arc::new(keys)),
        })
    }

    /// A ring of the fixed test keys.
    pub fn for_tests() -> KeyRing {
        KeyRing {
            path: PathBuf::from("(test keys)"),
            keys: std::sync::RwLock::new(std::sync::Arc::new(Keys::for_tests())),
        }
    }

    /// Runs `f` with the keys; when the value was sealed under a key this process does not
    /// hold yet (another process rotated), reads the key file again and runs it once more.
    fn with_reload<T>(&self, f: impl Fn(&Keys) -> Result<T, KeyError>) -> Result<T, KeyError> {
        match f(&self.get()) {
            Err(KeyError::Missing(_)) => f(&*self.reload()?),
            other => other,
        }
    }

    /// Seals a text column's value under the current key (see [`Keys::seal_text`]).
    pub fn seal_text(&self, plain: &str, context: &str) -> String {
        self.get().seal_text(plain, context)
    }

    /// Opens a text column's value: a sealed one with its key, a value written in clear before
    /// the sealing (not yet sealed by the job) as it is.
    pub fn open_text(&self, stored: &str, context: &str) -> Result<String, KeyError> {
        if !Keys::is_sealed_text(stored) {
            return Ok(stored.to_string());
        }
        self.with_reload(|k| k.open_text(stored, context))
    }

    /// Seals a stored file's content (see [`Keys::seal`]).
    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        self.get().seal(plain, context)
    }

    /// Opens a stored file's content: sealed with its key, a file stored in clear before the
    /// sealing as it is.
    pub fn open_file(&self, stored: Vec<u8>, context: &str) -> Result<Vec<u8>, KeyError> {
        if !Keys::is_sealed(&stored) {
            return Ok(stored);
        }
        self.with_reload(|k| k.open(&stored, context))
    }

    /// The keyed index of an exact-match value (see [`Keys::index`]).
    pub fn index(&self, kind: &str, value: &str) -> String {
        self.get().index(kind, value)
    }

    /// The number of the key new values are sealed under.
    pub fn current(&self) -> u32 {
        self.get().current()
    }

    /// Adds a new data key to the key file and makes it the current one; values sealed under
    /// older keys still open. Returns the new key's number and check value (which the caller
    /// records in the database: `workflow::sealing::rotate`).
    pub fn add_data_key(&self) -> Result<(u32, String), KeyError> {
        let mut keys = (*self.get()).clone();
        let n = keys.add_data_key()?;
        let check = keys.check_value(n).ok_or(KeyError::Missing(n))?;
        let keys = std::sync::Arc::new(keys);
        match self.keys.write() {
            Ok(mut k) => *k = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
        Ok((n, check))
    }
}

/// The audit keys of the installations this process serves, by installation: the check value
/// of the installation's first data key (random, so one per installation). The audit log is
/// written deep inside many transactions that know their connection, not the server; the
/// entry's insert reads its installation from the database in the same statement as the chain
/// head and finds the key here. A process that has not opened the key file of a database whose
/// chain is keyed cannot write to its audit log (the write fails rather than break the chain).
static AUDIT_KEYS: std::sync::OnceLock<std::sync::RwLock<BTreeMap<String, std::sync::Arc<Keys>>>> =
    std::sync::OnceLock::new();

fn audit_keys() -> &'static std::sync::RwLock<BTreeMap<String, std::sync::Arc<Keys>>> {
    AUDIT_KEYS.get_or_init(|| std::sync::RwLock::new(BTreeMap::new()))
}

/// Registers `keys` as the keys of the installation `installation` (see [`AUDIT_KEYS`]).
pub fn register_installation(installation: &str, keys: std::sync::Arc<Keys>) {
    let mut map = match audit_keys().write() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.insert(installation.to_string(), keys);
}

/// The keys registered for the installation `installation`.
pub fn of_installation(installation: &str) -> Option<std::sync::Arc<Keys>> {
    let map = match audit_keys().read() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.get(installation).cloned()
}

/// The SQL expression of the installation's identity (the first data key's check value).
pub const INSTALLATION_SQL: &str = "(SELECT check_value FROM data_keys ORDER BY number LIMIT 1)";

/// The check values the database holds: (key number, check value).
async fn checks(pool: &sqlx::AnyPool) -> anyhow::Result<Vec<(u32, String)>> {
    crate::store::data_keys::checks(pool)
        .await?
        .into_iter()
        .map(|(n, check)| Ok((u32::try_from(n)?, check)))
        .collect()
}

/// Every key the database knows is in `keys` with the same check value.
fn verify(keys: &Keys, known: &[(u32, String)]) -> anyhow::Result<()> {
    for (n, check) in known {
        match keys.check_value(*n) {
            Some(c) if &c == check => {}
            Some(_) => anyhow::bail!(
                "密钥文件 {} 中的密钥 data{n} 与数据库记录的不一致（不是本系统的密钥文件？）/ \
                 key data{n} of {} is not the key the database's data is encrypted under",
                keys.path.display(),
                keys.path.display()
            ),
            None => anyhow::bail!(
                "密钥文件 {} 缺少密钥 data{n} / key data{n} is missing from {}",
                keys.path.display(),
                keys.path.display()
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sm4_gcm_round_trip_and_tamper() {
        let k = Keys::for_tests();
        let s = k.seal(b"E12345678", "visitors.passport_no");
        assert!(Keys::is_sealed(&s));
        assert!(!s.windows(9).any(|w| w == b"E12345678"));
        assert_eq!(k.open(&s, "visitors.passport_no").unwrap(), b"E12345678");
        // Another column's context does not open it.
        assert!(k.open(&s, "visitors.birth_date").is_err());
        let mut bad = s.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(k.open(&bad, "visitors.passport_no").is_err());
        // Two seals of one value differ (random nonce).
        assert_ne!(s, k.seal(b"E12345678", "visitors.passport_no"));
        let t = k.seal_text("1985-05-05", "b");
        assert!(Keys::is_sealed_text(&t));
        assert_eq!(k.open_text(&t, "b").unwrap(), "1985-05-05");
        assert_eq!(Keys::key_of_text(&t), Some(1));
    }

    /// GB/T 32907-2016 appendix A, example 1: one block of SM4.
    #[test]
    fn sm4_standard_vector() {
        use sm4::cipher::{BlockEncrypt, KeyInit as _};
        let key = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let c = Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::generic_array::GenericArray::clone_from_slice(&key);
        c.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    /// GB/T 32905-2016 appendix A, example 1: SM3 of "abc".
    #[test]
    fn sm3_standard_vector() {
        use sm3::Digest;
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn file_created_0600_reloaded_and_rotated() {
        let dir = std::env::temp_dir().join(format!("laihua-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("keys").join("data.key");
        assert!(Keys::load_or_create(&path, None).is_err());
        let mut k = Keys::load_or_create(&path, Some("genesis")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let old = k.seal(b"x", "c");
        let again = Keys::load_or_create(&path, None).unwrap();
        assert_eq!(again.open(&old, "c").unwrap(), b"x");
        assert_eq!(again.index("p", "E1"), k.index("p", "E1"));
        assert_eq!(k.add_data_key().unwrap(), 2);
        let reread = Keys::load_or_create(&path, None).unwrap();
        assert_eq!(reread.current(), 2);
        assert_eq!(reread.open(&old, "c").unwrap(), b"x");
        assert_eq!(Keys::key_of(&reread.seal(b"y", "c")), Some(2));
        assert!(!format!("{reread:?}").contains(&hex::encode(reread.index)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
