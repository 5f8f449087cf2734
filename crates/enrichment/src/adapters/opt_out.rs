//! A direct-marketing opt-out list (such as a marketing association's prohibition register):
//! a file of phone numbers and postal addresses whose holders have forbidden direct marketing.
//! The file is read at start and read again when it changes (checked at most once a second, on
//! use), so an operator replaces it and lookups see the new list without a restart. A file that
//! cannot be read keeps the list last loaded, and says so in the log.
//!
//! The format, one entry a line (`#` starts a comment):
//! ```text
//! phone,+358401234567
//! phone,040 123 4567
//! address,Mannerheimintie 1 A 2;00100;HELSINKI
//! ```
//! Phone numbers are compared in E.164; addresses by their words (case and punctuation aside).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::{Adapter, AdapterError, Answer, Query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutQuery {
    /// E.164.
    Phone(String),
    /// Normalised "street postal code post office".
    Address(String),
}

impl OptOutQuery {
    pub fn cache_key(&self) -> String {
        use sha2::Digest;
        let text = match self {
            OptOutQuery::Phone(p) => format!("p:{p}"),
            OptOutQuery::Address(a) => format!("a:{a}"),
        };
        format!("opt_out:{}", hex::encode(sha2::Sha256::digest(text)))
    }

    /// The key an address is compared by: its street lines (a c/o line aside) as words,
    /// split at spaces, punctuation and between letters and digits, with the words for "flat"
    /// left out, then the postal code. "Mannerheimintie 1 A 2", "MANNERHEIMINTIE 1 A2" and
    /// "Mannerheimintie 1a as. 2" are one address; "Katu 1 12" and "Katu 11 2" are two. The post
    /// office adds nothing the postal code does not say.
    pub fn address_key(lines: &[String], postal_code: &str) -> String {
        let mut words: Vec<String> = Vec::new();
        for line in lines
            .iter()
            .filter(|l| !l.trim().to_lowercase().starts_with("c/o"))
        {
            let mut word = String::new();
            let mut digits = false;
            for c in line.chars().flat_map(char::to_lowercase) {
                if !c.is_alphanumeric() {
                    words.push(std::mem::take(&mut word));
                    continue;
                }
                if !word.is_empty() && c.is_ascii_digit() != digits {
                    words.push(std::mem::take(&mut word));
                }
                digits = c.is_ascii_digit();
                word.push(c);
            }
            words.push(word);
        }
        words.retain(|w| {
            !w.is_empty() && !["as", "asunto", "bst", "bostad", "lgh", "apt"].contains(&w.as_str())
        });
        let code: String = postal_code.chars().filter(char::is_ascii_digit).collect();
        format!("{}|{code}", words.join(" "))
    }
}

#[derive(Debug, Default)]
struct List {
    phones: HashSet<String>,
    addresses: HashSet<String>,
    modified: Option<SystemTime>,
    loaded_at: Option<DateTime<Utc>>,
    checked: Option<Instant>,
}

#[derive(Debug)]
pub struct OptOut {
    path: PathBuf,
    list: Mutex<List>,
}

/// Reads the list; errors name the file and line.
fn read(path: &std::path::Path) -> anyhow::Result<(HashSet<String>, HashSet<String>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("opt-out list {}: {e}", path.display()))?;
    let (mut phones, mut addresses) = (HashSet::new(), HashSet::new());
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad =
            |why: &str| anyhow::anyhow!("opt-out list {} line {}: {why}", path.display(), n + 1);
        let (kind, value) = line.split_once(',').ok_or_else(|| {
            bad("expected `phone,NUMBER` or `address,STREET;POSTAL CODE;POST OFFICE`")
        })?;
        match kind.trim() {
            "phone" => {
                let phone =
                    super::phone_key(value.trim()).ok_or_else(|| bad("not a phone number"))?;
                phones.insert(phone);
            }
            "address" => {
                let parts: Vec<&str> = value.split(';').map(str::trim).collect();
                let [street, postal_code, _post_office] = parts[..] else {
                    return Err(bad("an address is STREET;POSTAL CODE;POST OFFICE"));
                };
                if street.is_empty() || postal_code.is_empty() {
                    return Err(bad("an address needs its street and postal code"));
                }
                addresses.insert(OptOutQuery::address_key(&[street.to_owned()], postal_code));
            }
            other => return Err(bad(&format!("unknown kind `{other}` (phone or address)"))),
        }
    }
    Ok((phones, addresses))
}

impl OptOut {
    /// Loads the list; a file that cannot be read or parsed stops the start.
    pub fn load(path: PathBuf) -> anyhow::Result<Self> {
        let (phones, addresses) = read(&path)?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        tracing::info!(path = %path.display(), phones = phones.len(), addresses = addresses.len(), "opt-out list loaded");
        Ok(Self {
            path,
            list: Mutex::new(List {
                phones,
                addresses,
                modified,
                loaded_at: Some(Utc::now()),
                checked: Some(Instant::now()),
            }),
        })
    }

    /// Reads the file again when it changed since it was last read.
    fn reload_if_changed(&self, list: &mut List) {
        if list
            .checked
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        list.checked = Some(Instant::now());
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified.is_none() || modified == list.modified {
            return;
        }
        match read(&self.path) {
            Ok((phones, addresses)) => {
                tracing::info!(path = %self.path.display(), phones = phones.len(), addresses = addresses.len(), "opt-out list reloaded");
                list.phones = phones;
                list.addresses = addresses;
                list.modified = modified;
                list.loaded_at = Some(Utc::now());
            }
            Err(e) => {
                // Keep the old list: an empty one would let marketing through.
                tracing::error!(
                    error = format!("{e:#}"),
                    "the changed opt-out list cannot be read; the list loaded before stays in use"
                );
                list.modified = modified;
            }
        }
    }

    pub fn check(&self, query: &OptOutQuery) -> Answer {
        let mut list = self.list.lock().expect("not poisoned");
        self.reload_if_changed(&mut list);
        let listed = match query {
            OptOutQuery::Phone(p) => list.phones.contains(p),
            OptOutQuery::Address(a) => list.addresses.contains(a),
        };
        Answer::OptOut {
            listed,
            loaded_at: list.loaded_at.unwrap_or_else(Utc::now),
        }
    }
}

impl Adapter for OptOut {
    fn kind(&self) -> &'static str {
        "opt_out"
    }

    fn supports(&self, query: &Query) -> bool {
        matches!(query, Query::OptOut(_))
    }

    fn lookup<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Answer, AdapterError>> {
        Box::pin(async move {
            match query {
                Query::OptOut(q) => Ok(self.check(q)),
                _ => Err(AdapterError::Unsupported(
                    "the opt-out list answers opt-out checks only".into(),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_found_in_any_common_form_and_the_list_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kielto.csv");
        std::fs::write(
            &path,
            "# opt-outs\nphone,040 123 4567\naddress,Mannerheimintie 1 A 2;00100;HELSINKI\n",
        )
        .unwrap();
        let list = OptOut::load(path.clone()).unwrap();
        let listed = |q: OptOutQuery| matches!(list.check(&q), Answer::OptOut { listed: true, .. });
        assert!(listed(OptOutQuery::Phone("+358401234567".into())));
        assert!(!listed(OptOutQuery::Phone("+358401234568".into())));
        for lines in [
            vec!["MANNERHEIMINTIE 1 A 2".to_owned()],
            vec![
                "c/o Meikäläinen".to_owned(),
                "Mannerheimintie 1 A2".to_owned(),
            ],
            vec!["Mannerheimintie 1a as. 2".to_owned()],
        ] {
            assert!(
                listed(OptOutQuery::Address(OptOutQuery::address_key(
                    &lines, "00100"
                ))),
                "{lines:?}"
            );
        }
        assert!(!listed(OptOutQuery::Address(OptOutQuery::address_key(
            &["Mannerheimintie 1 A 3".into()],
            "00100"
        ))));
        // Numbers stay apart.
        assert_ne!(
            OptOutQuery::address_key(&["Katu 1 12".into()], "00100"),
            OptOutQuery::address_key(&["Katu 11 2".into()], "00100")
        );

        // Replaced: the next check a second later sees the new list.
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::write(&path, "phone,+358 50 765 4321\n").unwrap();
        let newer = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(newer)
            .unwrap();
        assert!(listed(OptOutQuery::Phone("+358507654321".into())));
        assert!(!listed(OptOutQuery::Phone("+358401234567".into())));

        // A broken file keeps the list loaded before.
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::write(&path, "fax,123\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(newer + Duration::from_secs(5))
            .unwrap();
        assert!(listed(OptOutQuery::Phone("+358507654321".into())));
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kielto.csv");
        std::fs::write(&path, "phone,+358401234567\nphone,not a number\n").unwrap();
        let err = OptOut::load(path).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("not a phone number"),
            "{err}"
        );
    }
}
