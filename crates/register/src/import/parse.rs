//! Small parsers for the pieces of a register document: emails, phone numbers, business IDs,
//! postal codes, list items and enumerations, category keys.

pub(super) fn trim_item(text: &str) -> String {
    text.trim()
        .trim_end_matches(['.', ';', ',', ':'])
        .trim()
        .to_owned()
}

pub(super) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const INTRO_ENDINGS: &[&str] = &[
    "käsitellään",
    "käytetään",
    "hyödynnetään",
    "tallennetaan",
    "kerätään",
    "käsittelemme",
    "käytämme",
    "sisältää",
    "used",
    "processed",
    "används",
    "behandlas",
    "för",
    "for",
    "till",
    "varten",
    "seuraavasti",
    "seuraavat",
    "seuraavia",
    "following",
    "följande",
    "mm",
    "esim",
];

/// "Rekisteriin tallennettuja tietoja käytetään" or "... sisältää mm. seuraavat tiedot:".
pub(super) fn is_intro(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let body = t.trim_end_matches(':').trim_end_matches(['.', ' ']);
    let last = body.rsplit(' ').next().unwrap_or("");
    INTRO_ENDINGS.contains(&last)
        || (t.ends_with(':')
            && ["seuraav", "following", "följande", "mm.", "esim.", "bl.a."]
                .iter()
                .any(|w| t.contains(w)))
}

/// Removes a trailing connector from an item that introduced a list ("... kehittämiseksi sekä:").
pub(super) fn strip_connector(text: &str) -> String {
    let mut t = text.trim().trim_end_matches(':').trim().to_owned();
    for connector in [" sekä", " ja", " and", " och", " samt"] {
        if let Some(rest) = t.strip_suffix(connector) {
            t = rest.to_owned();
        }
    }
    t
}

const ENUMERATION_VERBS: &[&str] = &[
    "käsitellään ",
    "käytetään ",
    "hyödynnetään ",
    "används för ",
    "används till ",
    "behandlas för ",
    "is used for ",
    "are used for ",
    "used for ",
    "processed for ",
];

/// Splits "Tietoja käsitellään laskutukseen, markkinointiin sekä tilastointiin." into its items;
/// an item of bare verbal nouns ("hoitamiseen ja kehittämiseen") stays with the one before it.
pub(super) fn enumeration(sentence: &str) -> Option<Vec<String>> {
    let lower = sentence.to_lowercase();
    let (pos, verb) = ENUMERATION_VERBS
        .iter()
        .filter_map(|v| lower.find(v).map(|p| (p, *v)))
        .min_by_key(|(p, _)| *p)?;
    let rest = trim_item(&sentence[pos + verb.len()..]);
    if !(rest.contains(", ") || rest.contains(" sekä ") || rest.contains(" samt ")) {
        return None;
    }
    let mut items: Vec<String> = Vec::new();
    for part in rest
        .split(", ")
        .flat_map(|p| p.split(" sekä "))
        .flat_map(|p| p.split(" samt "))
    {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let bare = part
            .split_whitespace()
            .filter(|w| !matches!(*w, "ja" | "tai" | "and" | "or" | "och" | "eller"))
            .all(|w| w.ends_with("miseen") || w.ends_with("miseksi") || w.ends_with("mista"));
        match items.last_mut() {
            Some(prev) if bare => {
                prev.push_str(", ");
                prev.push_str(part);
            }
            _ => items.push(part.to_owned()),
        }
    }
    (items.len() >= 2).then(|| items.into_iter().map(|i| capitalise(&i)).collect())
}

/// The email in a line, after undoing "tuki @ palvelimet . net" and "info(at)example.fi".
pub(super) fn email_in(text: &str) -> Option<String> {
    let mut t = text.to_owned();
    for (from, to) in [
        ("(at)", "@"),
        ("[at]", "@"),
        ("(a)", "@"),
        ("(ät)", "@"),
        (" at ", " @ "),
        ("(dot)", "."),
        ("[dot]", "."),
        (" dot ", " . "),
    ] {
        if from == " at " || from == " dot " {
            // Only inside something that is becoming an address.
            if !(t.contains("(at)") || t.contains(" at ") && t.contains(" dot ")) {
                continue;
            }
        }
        t = t.replace(from, to);
    }
    let at = t.find('@')?;
    let before: String = t[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || "._%+-".contains(*c))
        .collect();
    let local: String = before.chars().rev().collect();
    // The domain may have spaces around its dots: "palvelimet . net".
    let mut domain = String::new();
    let mut chars = t[at + 1..].trim_start().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '-' {
            domain.push(c);
        } else if c == '.' || c == ' ' {
            let rest: String = chars.clone().collect();
            let rest_trimmed = rest.trim_start();
            let dot_follows = c == '.' || rest_trimmed.starts_with('.');
            let next_is_label = rest_trimmed
                .trim_start_matches('.')
                .trim_start()
                .starts_with(|ch: char| ch.is_alphanumeric());
            if dot_follows && next_is_label && !domain.ends_with('.') {
                domain.push('.');
                let skip = rest.len() - rest_trimmed.trim_start_matches('.').trim_start().len();
                for _ in 0..skip {
                    chars.next();
                }
            } else {
                break;
            }
        } else {
            break;
        }
    }
    let email = format!("{local}@{}", domain.trim_end_matches('.'));
    let (l, d) = email.split_once('@')?;
    (!l.is_empty()
        && d.contains('.')
        && d.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic)))
    .then(|| email.to_lowercase())
}

/// The phone number in a line: "Puh. 0600 - 555 808 (1,49e/min)" gives "0600 - 555 808".
pub(super) fn phone_in(text: &str) -> Option<String> {
    let mut tokens = Vec::new();
    for token in text.split_whitespace() {
        let phoneish = token
            .chars()
            .all(|c| c.is_ascii_digit() || "+-()/".contains(c));
        if phoneish && (token.chars().any(|c| c.is_ascii_digit()) || token == "-" || token == "/") {
            tokens.push(token);
        } else if !tokens.is_empty() {
            break;
        }
    }
    let phone = tokens.join(" ");
    let phone = phone
        .trim_end_matches('(')
        .trim_matches(|c| c == '-' || c == '/')
        .trim()
        .to_owned();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    ((5..=15).contains(&digits) && !phone.starts_with(')')).then_some(phone)
}

pub(super) fn business_id_in(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find(|w| {
            w.len() >= 8
                && w.len() <= 9
                && w.as_bytes()[w.len() - 2] == b'-'
                && w[..w.len() - 2].bytes().all(|b| b.is_ascii_digit())
        })
}

pub(super) fn postal_line(part: &str) -> Option<(String, String)> {
    let part = part.trim();
    let part = part
        .strip_prefix("FI-")
        .or_else(|| part.strip_prefix("FIN-"))
        .unwrap_or(part);
    let (code, office) = part.split_once(' ')?;
    (code.len() == 5
        && code.bytes().all(|b| b.is_ascii_digit())
        && office.chars().next().is_some_and(char::is_alphabetic))
    .then(|| (code.to_owned(), office.trim().to_owned()))
}

pub(super) fn slug(description: &str) -> String {
    let mut key = String::new();
    for c in description.to_lowercase().chars() {
        let c = match c {
            'ä' | 'å' | 'á' | 'à' => 'a',
            'ö' | 'ó' | 'ø' => 'o',
            'é' | 'è' => 'e',
            'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
        if key.len() >= 48 {
            break;
        }
    }
    let mut key = key.trim_matches('_').to_owned();
    if key.len() > 40 {
        key = key[..40]
            .rsplit_once('_')
            .map_or(key[..40].to_owned(), |(head, _)| head.to_owned());
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("category_{key}").trim_end_matches('_').to_owned();
    }
    key
}
