//! The provider templates file (`--sms-templates`): one table per provider mapping every kind
//! of message to the code of its approved template.
//!
//! ```toml
//! [aliyun]
//! verify_code = "SMS_123456789"
//! registration_approved = "SMS_123456790"
//! # …
//! [tencent]
//! verify_code = "1234567"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::message::Kind;

/// The template codes of one provider, one per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates(BTreeMap<Kind, String>);

impl Templates {
    /// The template code of `kind` (present for every kind once [`Templates::for_provider`]
    /// succeeded).
    pub fn code(&self, kind: Kind) -> &str {
        self.0.get(&kind).map(String::as_str).unwrap_or("")
    }

    /// A complete set from pairs (tests).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Kind, String)>) -> Templates {
        Templates(pairs.into_iter().collect())
    }
}

/// A template code as written: `"SMS_1234"` or, for 腾讯云's numeric ids, `1234`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Code {
    Text(String),
    Number(i64),
}

/// Reads `path` and returns the templates of `provider` (`aliyun`, `tencent`). Refuses a file
/// that cannot be read or parsed, a table of an unknown provider, an unknown kind, an empty
/// code, and a provider table that lacks a kind (naming every kind missing).
pub fn for_provider(path: &Path, provider: &str) -> anyhow::Result<Templates> {
    in_file(path, |text| parse(text, provider))
}

/// Checks every provider table `path` has (the outbox does not use the file; a file given
/// anyway is checked, so that it is right before a provider uses it).
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    in_file(path, |text| {
        let tables = tables(text)?;
        for provider in tables.keys() {
            complete(&tables, provider)?;
        }
        Ok(())
    })
}

/// `f` of the file's text, its errors naming the file.
fn in_file<T>(path: &Path, f: impl FnOnce(&str) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading the SMS templates file {}: {e}", path.display()))?;
    f(&text).map_err(|e| anyhow::anyhow!("the SMS templates file {}: {e}", path.display()))
}

/// The providers a templates file may have tables for.
pub const PROVIDERS: [&str; 2] = ["aliyun", "tencent"];

pub fn parse(text: &str, provider: &str) -> anyhow::Result<Templates> {
    complete(&tables(text)?, provider)
}

type Tables = BTreeMap<String, BTreeMap<String, Code>>;

/// The file's tables, each of a known provider and naming only known kinds.
fn tables(text: &str) -> anyhow::Result<Tables> {
    let tables: Tables =
        basic_toml::from_str(text).map_err(|e| anyhow::anyhow!("not valid TOML: {e}"))?;
    for (name, table) in &tables {
        if !PROVIDERS.contains(&name.as_str()) {
            anyhow::bail!(
                "unknown provider table [{name}] (known: {})",
                PROVIDERS.join(", ")
            );
        }
        for key in table.keys() {
            if Kind::parse(key).is_none() {
                anyhow::bail!(
                    "[{name}] {key}: no such message (run `laihua sms templates` for the list)"
                );
            }
        }
    }
    Ok(tables)
}

/// The codes of `provider`'s table: every kind, none empty.
fn complete(tables: &Tables, provider: &str) -> anyhow::Result<Templates> {
    let Some(table) = tables.get(provider) else {
        anyhow::bail!("no [{provider}] table: the {provider} provider needs a template for every message (run `laihua sms templates` for the list)");
    };
    let mut codes = BTreeMap::new();
    let mut missing = Vec::new();
    for &kind in Kind::ALL {
        match table.get(kind.key()) {
            Some(Code::Text(code)) if !code.trim().is_empty() => {
                codes.insert(kind, code.trim().to_string());
            }
            Some(Code::Number(n)) if *n > 0 => {
                codes.insert(kind, n.to_string());
            }
            Some(_) => anyhow::bail!("[{provider}] {}: the template code is empty", kind.key()),
            None => missing.push(kind.key()),
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "[{provider}] has no template for: {} (run `laihua sms templates` for their texts)",
            missing.join(", ")
        );
    }
    Ok(Templates(codes))
}

/// What `laihua sms templates` prints: `KIND<TAB>TEXT` per kind, the text with `${name}`
/// variables, or with 腾讯云's `{1}` variables when `numbered`.
pub fn listing(numbered: bool) -> String {
    let mut out = String::new();
    for &kind in Kind::ALL {
        let text = match numbered {
            true => kind.numbered_text(),
            false => kind.text().to_string(),
        };
        out.push_str(kind.key());
        out.push('\t');
        out.push_str(&text);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn full(provider: &str, skip: &[&str]) -> String {
        let mut s = format!("[{provider}]\n");
        for (i, k) in Kind::ALL.iter().enumerate() {
            if !skip.contains(&k.key()) {
                s.push_str(&format!("{} = \"SMS_{}\"\n", k.key(), 1000 + i));
            }
        }
        s
    }

    #[test]
    fn a_complete_table_gives_every_kind_its_code() {
        let t = parse(&full("aliyun", &[]), "aliyun").unwrap();
        assert_eq!(t.code(Kind::VerifyCode), "SMS_1000");
        for &k in Kind::ALL {
            assert!(t.code(k).starts_with("SMS_"));
        }
        let numeric = full("tencent", &["verify_code"]) + "verify_code = 2233445\n";
        assert_eq!(
            parse(&numeric, "tencent").unwrap().code(Kind::VerifyCode),
            "2233445"
        );
    }

    #[test]
    fn a_missing_kind_is_named() {
        let e = parse(&full("aliyun", &["verify_code", "visit_overdue"]), "aliyun")
            .unwrap_err()
            .to_string();
        assert!(e.contains("verify_code, visit_overdue"), "{e}");
        let e = parse(&full("aliyun", &[]), "tencent")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [tencent] table"), "{e}");
    }

    #[test]
    fn typos_and_blanks_are_refused() {
        let e = parse(&(full("aliyun", &[]) + "verfy_code = \"x\"\n"), "aliyun")
            .unwrap_err()
            .to_string();
        assert!(e.contains("verfy_code"), "{e}");
        let e = parse(&(full("aliyun", &[]) + "[aliyn]\n"), "aliyun")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[aliyn]"), "{e}");
        let blank = full("aliyun", &["change_approved"]) + "change_approved = \" \"\n";
        let e = parse(&blank, "aliyun").unwrap_err().to_string();
        assert!(
            e.contains("change_approved: the template code is empty"),
            "{e}"
        );
        assert!(parse("[aliyun", "aliyun").is_err());
    }

    /// A file given to the outbox is checked table by table.
    #[test]
    fn check_file_checks_every_table_present() {
        let path = std::env::temp_dir().join(format!("laihua-sms-{}.toml", rand::random::<u64>()));
        std::fs::write(
            &path,
            full("aliyun", &[]) + &full("tencent", &["visit_overdue"]),
        )
        .unwrap();
        let e = check_file(&path).unwrap_err().to_string();
        assert!(
            e.contains("[tencent] has no template for: visit_overdue"),
            "{e}"
        );
        std::fs::write(&path, full("aliyun", &[])).unwrap();
        check_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(check_file(&path)
            .unwrap_err()
            .to_string()
            .contains("reading the SMS templates file"));
    }

    /// The example file of deploy/ lists every kind for both providers.
    #[test]
    fn the_example_file_is_complete() {
        let text = include_str!("../../deploy/sms-templates.example.toml");
        for provider in PROVIDERS {
            parse(text, provider).unwrap();
        }
        for &kind in Kind::ALL {
            assert!(text.contains(kind.text()), "{kind}");
        }
    }

    #[test]
    fn the_listing_has_every_kind_once() {
        let text = listing(false);
        assert_eq!(text.lines().count(), Kind::ALL.len());
        assert!(text
            .lines()
            .any(|l| l == "verify_code\t您的验证码为${code}，5分钟内有效，请勿告诉他人。"));
        assert!(listing(true)
            .lines()
            .any(|l| l == "verify_code\t您的验证码为{1}，5分钟内有效，请勿告诉他人。"));
    }
}
