//! Retention periods, what starts them and the laws that set them; manual material.

use super::*;

pub const MANUAL: &[&str] = &[
    "manuaali", "paperi", "tulostet", "manuell", "papper", "manual", "paper", "printed",
];

pub const RETENTION_VERBS: &[&str] = &[
    "säilytetään",
    "säilytämme",
    "säilyttää",
    "säilytys",
    "poistetaan",
    "hävitetään",
    "lagras",
    "bevaras",
    "raderas",
    "kept",
    "retained",
    "stored",
    "deleted",
    "erased",
];

pub(super) fn number_word(word: &str) -> Option<u32> {
    Some(match word {
        "yksi" | "yhden" | "yhdeksi" | "one" => 1,
        "kaksi" | "kahden" | "kahdeksi" | "två" | "two" => 2,
        "kolme" | "kolmen" | "kolmeksi" | "tre" | "three" => 3,
        "neljä" | "neljän" | "fyra" | "four" => 4,
        "viisi" | "viiden" | "fem" | "five" => 5,
        "kuusi" | "kuuden" | "sex" | "six" => 6,
        "seitsemän" | "sju" | "seven" => 7,
        "kahdeksan" | "åtta" | "eight" => 8,
        "yhdeksän" | "nio" | "nine" => 9,
        "kymmenen" | "tio" | "ten" => 10,
        "kaksitoista" | "tolv" | "twelve" => 12,
        _ => return None,
    })
}

pub(super) fn unit_word(word: &str) -> Option<PeriodUnit> {
    if word.starts_with("vuorokau")
        || word.starts_with("päiv")
        || word.starts_with("dag")
        || word.starts_with("day")
    {
        Some(PeriodUnit::Days)
    } else if word.starts_with("kuukau")
        || word == "kk"
        || word.starts_with("månad")
        || word.starts_with("month")
    {
        Some(PeriodUnit::Months)
    } else if word.starts_with("vuo") || word == "år" || word == "åren" || word.starts_with("year")
    {
        Some(PeriodUnit::Years)
    } else {
        None
    }
}

/// "kolme (3) vuotta", "24 kuukautta", "viiden vuoden", "tre år", "five years".
pub fn period_in(text: &str) -> Option<(u32, PeriodUnit)> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let n = match word.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            Ok(_) => continue,
            Err(_) => match number_word(word) {
                Some(n) => n,
                None => continue,
            },
        };
        // "kolme (3) vuotta": skip the figure that repeats the number.
        let mut j = i + 1;
        if words.get(j).and_then(|w| w.parse::<u32>().ok()) == Some(n) {
            j += 1;
        }
        if let Some(unit) = words.get(j).and_then(|w| unit_word(w)) {
            return Some((n, unit));
        }
    }
    None
}

pub fn retention_trigger_in(text: &str) -> Option<RetentionTrigger> {
    let t = text.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&[
        "niin kauan kuin",
        "asiakassuhteen ajan",
        "asiakkuuden ajan",
        "voimassaolon ajan",
        "så länge",
        "as long as",
        "for the duration",
    ]) {
        return Some(RetentionTrigger::RelationshipDuration);
    }
    if any(&[
        "peruuttami",
        "peruutta",
        "peruu",
        "perua",
        "återkall",
        "withdraw",
    ]) {
        return Some(RetentionTrigger::ConsentWithdrawal);
    }
    if names_relationship_end(text) {
        return Some(RetentionTrigger::RelationshipEnd);
    }
    if any(&[
        "keräämi",
        "kerätty",
        "keräyk",
        "tallentami",
        "vastaanottami",
        "saapumi",
        "insaml",
        "mottagits",
        "mottagande",
        "inkommit",
        "collect",
        "received",
        "receipt",
    ]) {
        return Some(RetentionTrigger::Collection);
    }
    None
}

/// Whether a retention sentence counts from the end of the relationship ("asiakassuhteen
/// päättymisestä", "after the lease has ended").
pub fn names_relationship_end(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "päättymi",
        "päätty",
        "loppumi",
        "päätyttyä",
        "upphör",
        "avslut",
        "relationship ends",
        "end of the",
        "after the customer relationship",
        "termination",
        "has ended",
        "after it ends",
        "after it has ended",
        " ends,",
        " ends.",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The law a retention sentence names: "... lain mukaan: Kirjanpitolaki 2:10." or "kirjanpitolain mukaisesti".
pub fn law_in(text: &str) -> Option<String> {
    for marker in ["lain mukaan:", "bestäms av lag:", "set by law:"] {
        if let Some(pos) = text.to_lowercase().find(marker)
            && let Some(rest) = text.get(pos + marker.len()..)
        {
            let law = rest
                .split(". ")
                .next()
                .unwrap_or(rest)
                .trim()
                .trim_end_matches('.')
                .trim();
            if !law.is_empty() {
                return Some(law.to_owned());
            }
        }
    }
    let t = text.to_lowercase();
    // "arkistolain (831/1994) nojalla", "asetuksen (298/2009) mukaan": the words before the
    // statute number name it.
    if let Some(open) = text.find('(')
        && let Some(close) = text[open..].find(')')
    {
        let number = &text[open + 1..open + close];
        let statute = number.split_once('/').is_some_and(|(n, y)| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && y.len() == 4
                && y.bytes().all(|b| b.is_ascii_digit())
        });
        let before: Vec<&str> = text[..open].split_whitespace().collect();
        let law_word = before.last().is_some_and(|w| {
            let w = w.to_lowercase();
            [
                "lain",
                "laki",
                "lagen",
                "lag",
                "act",
                "asetuksen",
                "asetus",
                "förordningen",
            ]
            .iter()
            .any(|e| w.ends_with(e))
        });
        if statute && law_word {
            let name = before[before.len().saturating_sub(1)..].join(" ");
            return Some(format!(
                "{} ({number})",
                crate::import::parse::capitalise(&name)
            ));
        }
    }
    if t.contains("kirjanpitolai")
        || t.contains("kirjanpitolaki")
        || t.contains("bokföringslag")
        || t.contains("accounting act")
    {
        return Some("Kirjanpitolaki (1336/1997)".into());
    }
    None
}
