//! Command line and environment configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "laihua", version, about = "来华 — 邀请外国人来华信息系统")]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    /// Serving options when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log lines (on standard error) as text or as one JSON object per line.
    #[arg(long, env = "LAIHUA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Folder for the SQLite database, attachments and the SMS outbox.
    #[arg(long, env = "LAIHUA_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL: sqlite:… or postgres://… (default: SQLite file in the data folder).
    #[arg(long, env = "LAIHUA_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The key file of the personal data's encryption and of the audit chain (default:
    /// keys/data.key in the data folder). Created at the first start with mode 0600; keep a
    /// copy apart from the backups: without it the encrypted data cannot be read.
    #[arg(long, env = "LAIHUA_DATA_KEY_FILE", global = true)]
    pub data_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub files: FilesArgs,
}

/// Where attachments and templates are kept.
#[derive(Args, Debug, Clone, Default)]
pub struct FilesArgs {
    /// File store: a folder (`file:PATH`; default: `files` in the data folder) or S3-compatible
    /// object storage `s3://BUCKET[/PREFIX]` (MinIO, Aliyun OSS, Tencent COS, AWS). S3 takes its
    /// credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION, its endpoint
    /// from LAIHUA_S3_ENDPOINT (an http:// endpoint is allowed, for a server on the same host
    /// or network), and uses path-style requests unless LAIHUA_S3_VIRTUAL_HOSTED is set.
    #[arg(long, env = "LAIHUA_FILES_URL", global = true)]
    pub files_url: Option<String>,
    /// Endpoint of the S3-compatible service, e.g. http://127.0.0.1:9000 (MinIO) or
    /// https://oss-cn-hangzhou.aliyuncs.com (default: AWS for AWS_REGION).
    #[arg(long, env = "LAIHUA_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    /// Virtual-hosted-style S3 requests (https://BUCKET.ENDPOINT-HOST/KEY) instead of path-style
    /// (https://ENDPOINT-HOST/BUCKET/KEY): Aliyun OSS needs it. Give LAIHUA_S3_ENDPOINT without
    /// the bucket.
    #[arg(long, env = "LAIHUA_S3_VIRTUAL_HOSTED", global = true)]
    pub s3_virtual_hosted: bool,
    /// S3 access key.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", global = true, hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    /// S3 secret key.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
    /// S3 region (default us-east-1; MinIO and moto accept any).
    #[arg(long, env = "AWS_REGION", global = true)]
    pub s3_region: Option<String>,
}

/// How log lines are written.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (fields, the request's span with its `request_id`).
    Json,
}

// Parsed once at start-up: the size of the serving options' variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (the default).
    Serve(ServeArgs),
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Apply database migrations and seed reference data, then exit.
    Migrate,
    /// Fill a fresh database with realistic synthetic data for load tests (creates the demo
    /// staff accounts; units sign in as synth00001… with the password Synth@2026).
    SeedSynthetic {
        /// Inviting units to create.
        #[arg(long, default_value_t = 200)]
        units: usize,
        /// Invitation groups to create.
        #[arg(long, default_value_t = 5000)]
        groups: usize,
        /// Seed of the random generator (the same seed gives the same data).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Years of history.
        #[arg(long, default_value_t = 4)]
        years: i64,
        /// Groups per transaction.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// SMS: the texts of the templates to submit for approval, and a check of the provider's
    /// configuration.
    Sms {
        #[command(subcommand)]
        command: SmsCommand,
    },
    /// The keys of the personal data (the key file, `--data-key-file`).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write a consistent copy of the database and of the stored files to one archive (the
    /// server may keep serving), or check an archive with --verify.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["to", "verify"])))]
    Backup {
        /// The archive to write; must not exist (written as PATH.partial, renamed when complete).
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
        /// Check an archive's structure and every checksum, print what it holds; exit 1 on any
        /// mismatch.
        #[arg(long, value_name = "PATH")]
        verify: Option<PathBuf>,
        /// Test aid: milliseconds to pause after reading each table (writes land meanwhile).
        /// Never set in production.
        #[arg(
            long,
            env = "LAIHUA_TEST_BACKUP_PAUSE_MS",
            hide = true,
            default_value_t = 0
        )]
        test_pause_ms: u64,
    },
    /// Load a backup into an empty database and its file store (SQLite or PostgreSQL, from a
    /// backup of either).
    Restore {
        /// The archive written by `laihua backup --to`.
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a new data key to the key file and seal every passport number, birth date, employer
    /// address and stored file under it; the server may keep serving meanwhile (it reads the
    /// new key when it meets a value sealed under it). Older keys stay in the file.
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum SmsCommand {
    /// Print every kind of message, one per line as `KIND<TAB>TEXT`, the text with `${name}`
    /// variables (阿里云), or `{1}` `{2}`… with --numbered (腾讯云), to apply for the templates.
    Templates {
        #[arg(long)]
        numbered: bool,
    },
    /// Check the configured provider (--sms-provider, its credentials, --sms-templates) as the
    /// server does at start-up; exit 1 and say what is missing.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain of the audit log; exit 1 if an entry was altered or removed.
    Verify,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LAIHUA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Also create demo staff accounts (printed at start-up).
    #[arg(long, env = "LAIHUA_DEMO")]
    pub demo: bool,
    /// Mark cookies Secure and send Strict-Transport-Security (when served over HTTPS behind a
    /// reverse proxy).
    #[arg(long, env = "LAIHUA_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// A font file with Chinese glyphs for printed forms (else <data-dir>/fonts, then the
    /// system's usual places); `none` prints the form as an HTML page instead of a PDF.
    #[arg(long, env = "LAIHUA_FONT")]
    pub font: Option<PathBuf>,
    /// Take the client address from the X-Real-IP header set by the reverse proxy.
    #[arg(long, env = "LAIHUA_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Requests an API token may make in a minute (a burst of this many, then one every
    /// 60/N seconds); 0 takes the default, 120.
    #[arg(long, env = "LAIHUA_API_PER_MINUTE", default_value_t = 120)]
    pub api_per_minute: u32,
    /// SMS provider: outbox (JSON lines in the data folder), aliyun or tencent.
    #[arg(long, env = "LAIHUA_SMS_PROVIDER", value_enum, default_value_t = SmsProvider::Outbox)]
    pub sms_provider: SmsProvider,
    /// The approved template of every kind of message, per provider (TOML: `[aliyun]` then
    /// `verify_code = "SMS_…"`…); `laihua sms templates` prints the texts to submit for approval.
    /// Required by aliyun and tencent.
    #[arg(long, env = "LAIHUA_SMS_TEMPLATES")]
    pub sms_templates: Option<PathBuf>,
    /// Seconds between two runs of the SMS job (notifications not yet sent, retries).
    #[arg(long, env = "LAIHUA_SMS_JOB_SECONDS", default_value_t = 30)]
    pub sms_job_seconds: u64,
    #[arg(long, env = "LAIHUA_ALIYUN_ACCESS_KEY_ID", default_value = "")]
    pub aliyun_access_key_id: String,
    #[arg(
        long,
        env = "LAIHUA_ALIYUN_ACCESS_KEY_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub aliyun_access_key_secret: String,
    /// The approved signature (签名) of notifications.
    #[arg(long, env = "LAIHUA_ALIYUN_SIGN_NAME", default_value = "")]
    pub aliyun_sign_name: String,
    /// The approved signature of verification codes, if it is not the notifications' one.
    #[arg(long, env = "LAIHUA_ALIYUN_CODE_SIGN_NAME", default_value = "")]
    pub aliyun_code_sign_name: String,
    #[arg(long, env = "LAIHUA_ALIYUN_REGION", default_value = "cn-hangzhou")]
    pub aliyun_region: String,
    #[arg(
        long,
        env = "LAIHUA_ALIYUN_ENDPOINT",
        default_value = "https://dysmsapi.aliyuncs.com/"
    )]
    pub aliyun_endpoint: String,
    /// Signature of the requests: 3 (ACS3-HMAC-SHA256) or 1 (HMAC-SHA1, for an older 专有云
    /// gateway).
    #[arg(long, env = "LAIHUA_ALIYUN_SIGNATURE_VERSION", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub aliyun_signature_version: u8,
    #[arg(long, env = "LAIHUA_TENCENT_SECRET_ID", default_value = "")]
    pub tencent_secret_id: String,
    #[arg(
        long,
        env = "LAIHUA_TENCENT_SECRET_KEY",
        default_value = "",
        hide_env_values = true
    )]
    pub tencent_secret_key: String,
    /// The SMS application's SmsSdkAppId (e.g. 1400006666).
    #[arg(long, env = "LAIHUA_TENCENT_SDK_APP_ID", default_value = "")]
    pub tencent_sdk_app_id: String,
    #[arg(long, env = "LAIHUA_TENCENT_SIGN_NAME", default_value = "")]
    pub tencent_sign_name: String,
    #[arg(long, env = "LAIHUA_TENCENT_CODE_SIGN_NAME", default_value = "")]
    pub tencent_code_sign_name: String,
    /// The most characters of a variable's value: 35 for an organisation account, 12 for an
    /// individually verified one (longer values are shortened with an ellipsis).
    #[arg(long, env = "LAIHUA_TENCENT_PARAM_MAX", default_value_t = 35, value_parser = clap::value_parser!(u8).range(6..=35))]
    pub tencent_param_max: u8,
    #[arg(long, env = "LAIHUA_TENCENT_REGION", default_value = "ap-guangzhou")]
    pub tencent_region: String,
    #[arg(
        long,
        env = "LAIHUA_TENCENT_ENDPOINT",
        default_value = "https://sms.tencentcloudapi.com/"
    )]
    pub tencent_endpoint: String,
    /// Minutes without activity after which a session ends.
    #[arg(long, env = "LAIHUA_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after sign-in after which a session ends whatever the activity.
    #[arg(long, env = "LAIHUA_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: i64,
    /// Test aid for browser tests: the server's clock runs ahead by the seconds written in this
    /// file. Never set in production.
    #[arg(long, env = "LAIHUA_TEST_CLOCK_FILE", hide = true)]
    pub test_clock_file: Option<PathBuf>,
    /// Seconds between two runs of the overdue post-visit registration reminders.
    #[arg(long, env = "LAIHUA_OVERDUE_JOB_SECONDS", default_value_t = 300)]
    pub overdue_job_seconds: u64,
    /// SMS codes one client address may request per hour.
    #[arg(long, env = "LAIHUA_SMS_PER_IP_HOUR", default_value_t = 30)]
    pub sms_per_ip_hour: i64,
    /// Seconds a client may take to send a request's headers, and to start the next request on
    /// a kept-alive connection (0: no limit).
    #[arg(long, env = "LAIHUA_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request's body, a 10 MB upload included; a slower
    /// request is refused and nothing of it is stored (0: no limit).
    #[arg(long, env = "LAIHUA_BODY_TIMEOUT_SECS", default_value_t = 120)]
    pub body_timeout_secs: u64,
    /// Uploads received at the same time; more are refused with a "try again" page (0: no
    /// limit).
    #[arg(long, env = "LAIHUA_MAX_UPLOADS", default_value_t = 8)]
    pub max_uploads: usize,
    /// On SIGTERM or SIGINT: seconds the requests in progress have to finish before their
    /// connections are closed (new connections are refused at once).
    #[arg(long, env = "LAIHUA_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// A bearer token that may read /metrics from any address (without it, only loopback
    /// clients may; behind a proxy with --trust-proxy, the forwarded client address counts).
    #[arg(
        long,
        env = "LAIHUA_METRICS_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub metrics_token: String,
    /// Seconds a request waits for the database (a connection, or SQLite's write lock) before
    /// it gets a "database unavailable" page; the server reconnects by itself once the
    /// database is back (at least 1).
    #[arg(long, env = "LAIHUA_DB_TIMEOUT_SECS", default_value_t = 5)]
    pub db_timeout_secs: u64,
    /// Seconds a stored file without a database row is kept before the orphan sweep (at
    /// start-up, then hourly) removes it. Another instance may be between writing a file and
    /// committing its row, so keep it well above the longest upload (0: the default, an hour).
    #[arg(long, env = "LAIHUA_ORPHAN_FILE_AGE_SECS", default_value_t = 3600)]
    pub orphan_file_age_secs: u64,
}

/// Where SMS go.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmsProvider {
    /// JSON lines appended to `sms-outbox.jsonl` in the data folder.
    #[default]
    Outbox,
    /// Alibaba Cloud SMS (阿里云短信).
    Aliyun,
    /// Tencent Cloud SMS (腾讯云短信).
    Tencent,
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Add a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        role: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove an account's second sign-in factor (a lost phone): it signs in with its password
    /// alone, or enrols again at its next sign-in when its role must have one.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// The account's login ID.
        login: String,
    },
}

/// Resolved configuration of a running server.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The key file (see `keys`).
    pub data_key_file: PathBuf,
    /// Where files are kept (see `files::FileStore::open`).
    pub files: FilesArgs,
    pub serve: ServeArgs,
    /// Connect for a bulk load (`seed-synthetic`, see `Db::connect_for`).
    pub bulk: bool,
}

impl Config {
    pub fn new(common: &Common, serve: ServeArgs) -> Config {
        let database_url = common.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                common.data_dir.join("laihua.db").display()
            )
        });
        Config {
            data_dir: common.data_dir.clone(),
            database_url,
            data_key_file: common
                .data_key_file
                .clone()
                .unwrap_or_else(|| crate::keys::Keys::default_path(&common.data_dir)),
            files: common.files.clone(),
            serve,
            bulk: false,
        }
    }
}
