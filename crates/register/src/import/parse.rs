//! Small parsers for the pieces of a register document: emails, phone numbers, business IDs,
//! postal codes, list items and enumerations, category keys.

pub(super) fn trim_item(text: &str) -> String {
    text.trim()
        .trim_end_matches(['.', ';', ',', ':'])
        .trim()
        .to_owned()
}

pub(in crate::import) fn capitalise(text: &str) -> String {
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
    // Connective fragments that hand over to the list: "..., johon sisältyvät muun muassa".
    "muassa",
    "esimerkiksi",
    "kuten",
    "lukien",
    "sisältyvät",
    "kuuluvat",
    "things",
    "including",
    "includes",
    "include",
    "annat",
    "omfattar",
    "ingår",
    "bl.a",
    "t.ex",
];

/// "Rekisteriin tallennettuja tietoja käytetään", "... sisältää mm. seuraavat tiedot:" or
/// "..., johon sisältyvät muun muassa": a line that introduces the list after it.
pub(super) fn is_intro(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let body = t.trim_end_matches(':').trim_end_matches(['.', ' ', ',']);
    let last = body.rsplit(' ').next().unwrap_or("");
    INTRO_ENDINGS.contains(&last)
        || (t.ends_with(':')
            && [
                "seuraav",
                "following",
                "följande",
                "mm.",
                "esim.",
                "bl.a.",
                "ryhm",
                "groups",
                "grupper",
            ]
            .iter()
            .any(|w| t.contains(w)))
}

/// Words that make a text a clause (a statement about the processing) rather than an item of a
/// list: finite verbs and auxiliaries of the three languages.
const CLAUSE_WORDS: &[&str] = &[
    "on",
    "ovat",
    "ei",
    "eivät",
    "emme",
    "voidaan",
    "voi",
    "käsitellään",
    "käytetään",
    "perustuu",
    "perustuvat",
    "tallennetaan",
    "kerätään",
    "säilytetään",
    "luovutetaan",
    "siirretään",
    "käytämme",
    "käsittelemme",
    "tallennamme",
    "keräämme",
    "ovat",
    "olemme",
    "is",
    "are",
    "was",
    "will",
    "may",
    "we",
    "do",
    "does",
    "not",
    "är",
    "används",
    "behandlas",
    "använder",
    "ansvarar",
    "överförs",
    "sparas",
    "lämnas",
    "vi",
    "inte",
    "kan",
    "har",
    "finns",
    "ser",
    "får",
    "saamme",
    "saadaan",
    "kertyvät",
    "sijaitsee",
    "sijaitsevat",
    "toimii",
    "has",
    "have",
    "gets",
    "receive",
    "receives",
    "ska",
    "skall",
    "shall",
    "must",
    "should",
];

/// Whether `text` reads as a statement (with a verb) rather than a noun phrase.
pub(super) fn is_clause(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .any(|w| {
            CLAUSE_WORDS.contains(&w.as_str())
                // Finnish passives: "lähetetään", "kerätään", "käsitellään", "tehdään" (not the
                // illative "perintään").
                || (w.chars().count() >= 7
                    && ([
                        "etaan", "etään", "ataan", "ätään", "itaan", "itään", "otaan", "ötään",
                        "utaan", "ytään", "llaan", "llään", "hdaan", "hdään",
                    ]
                    .iter()
                    .any(|e| w.ends_with(e))))
        })
}

const ENUMERATION_VERBS: &[&str] = &[
    "käsitellään ",
    "käytetään ",
    "hyödynnetään ",
    "käytämme ",
    "käsittelemme ",
    "används för ",
    "används till ",
    "behandlas för ",
    "behandlar vi för ",
    "is used for ",
    "are used for ",
    "used for ",
    "processed for ",
    "we use the data ",
    "we use your data ",
    "we use your personal data ",
    "we use personal data ",
];

/// Verbs that list the data a register holds: "Tallennamme tilaajasta sähköpostiosoitteen, ...".
const CONTENT_VERBS: &[&str] = &[
    "tallennamme ",
    "keräämme ",
    "sisältää ",
    "tallennetaan ",
    "sparar vi ",
    "registrerar vi ",
    "innehåller ",
    "we store ",
    "we collect ",
    "contains ",
];

/// Finnish purposes are said in the illative or translative ("laskutukseen", "tuottamiseksi"):
/// an item that ends otherwise ("lain sallimissa rajoissa") is not a purpose.
fn finnish_purpose(item: &str) -> bool {
    let last = item
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_lowercase()
        .trim_end_matches(|c: char| !c.is_alphabetic())
        .to_owned();
    [
        "aan", "ään", "een", "iin", "oon", "öön", "uun", "yyn", "seen", "siin", "hin", "han",
        "hen", "hon", "hun", "hyn", "hän", "hön", "ksi", "varten",
    ]
    .iter()
    .any(|e| last.ends_with(e))
}

/// Splits "Tietoja käsitellään laskutukseen, markkinointiin sekä tilastointiin." into its items;
/// an item of bare verbal nouns ("hoitamiseen ja kehittämiseen") stays with the one before it.
pub(super) fn enumeration(sentence: &str) -> Option<Vec<String>> {
    let (lead, rest) = after_verb(sentence, ENUMERATION_VERBS)?;
    let rest = skip_object(rest);
    let items = split_items(rest, false);
    let finnish = lead.split_whitespace().any(|w| {
        [
            "käsitellään",
            "käytetään",
            "hyödynnetään",
            "käytämme",
            "käsittelemme",
        ]
        .contains(&w.to_lowercase().as_str())
    });
    if items.is_empty() || (finnish && !items.iter().all(|i| finnish_purpose(i))) {
        return None;
    }
    // One item is a purpose only when it is plainly one ("... käsitellään X-tarkoituksiin").
    if items.len() == 1 && !(finnish || items[0].starts_with("to ")) {
        return None;
    }
    Some(items.into_iter().map(|i| capitalise(&i)).collect())
}

/// The kinds of data listed in a sentence: "Tallennamme tilaajasta X, Y ja Z." or "The register
/// contains the following data about each subscriber: X, Y and Z."
pub(super) fn content_enumeration(sentence: &str) -> Option<Vec<String>> {
    let rest = match sentence.split_once(": ") {
        Some((_, rest)) => rest,
        None => {
            let (_, rest) = after_verb(sentence, CONTENT_VERBS)?;
            // "tilaajasta" (from whom) and "rekisteriin" (where) before the list.
            let mut rest = rest.trim_start();
            for _ in 0..2 {
                if let Some((first, tail)) = rest.split_once(' ')
                    && (first.ends_with("sta")
                        || first.ends_with("stä")
                        || ["rekisteriin", "järjestelmään", "palveluun"].contains(&first))
                {
                    rest = tail;
                }
            }
            rest
        }
    };
    let items = split_items(rest, true);
    // "... isännöintijärjestelmään, jonka käyttö edellyttää ...": a relative clause, no list.
    let relative = items.iter().any(|i| {
        let first = i
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        [
            "jonka", "joka", "jotka", "joita", "som", "which", "that", "who", "where",
        ]
        .contains(&first.as_str())
            || is_clause(i)
    });
    (items.len() >= 2 && !relative).then_some(items)
}

/// The groups of people a sentence lists: "De registrerade är personer som ... och personer som
/// ..." or "Rekisterissä on tietoja verkkokaupan asiakkaista ja uutiskirjeen tilaajista."
pub(super) fn subject_enumeration(sentence: &str) -> Option<Vec<String>> {
    let (_, rest) = after_verb(
        sentence,
        &[
            " tietoja ",
            " är ",
            " ovat ",
            " are ",
            " käsitellään ",
            " include ",
        ],
    )?;
    let items = split_items(rest, true);
    (!items.is_empty()).then_some(items)
}

/// The text before the first of `verbs` and the text after it.
fn after_verb<'a>(sentence: &'a str, verbs: &[&str]) -> Option<(&'a str, &'a str)> {
    let lower = sentence.to_lowercase();
    let (pos, verb) = verbs
        .iter()
        .filter_map(|v| lower.find(v).map(|p| (p, *v)))
        .min_by_key(|(p, _)| *p)?;
    // Lower-casing keeps byte offsets for the languages here; refuse anything else.
    let end = pos + verb.len();
    (sentence.is_char_boundary(pos) && sentence.is_char_boundary(end))
        .then(|| (&sentence[..pos + verb.len()], &sentence[end..]))
}

/// "tilaajien tietoja uutiskirjeen lähettämiseen": the object before the list goes.
fn skip_object(rest: &str) -> &str {
    let words: Vec<(usize, &str)> = rest
        .split(' ')
        .scan(0, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((start, w))
        })
        .take(4)
        .collect();
    for (start, word) in words {
        let w = word.to_lowercase();
        if [
            "tietoja",
            "henkilötietoja",
            "tietojanne",
            "tietojasi",
            "tietojaan",
        ]
        .contains(&w.as_str())
        {
            return rest.get(start + word.len()..).unwrap_or(rest).trim_start();
        }
    }
    rest
}

/// The items of an enumeration: split at commas, "sekä"/"samt", and at "ja"/"och"/"and" where
/// both sides are phrases of their own ("hoitojen laskutukseen ja toiminnan tilastointiin") —
/// a bare word after "ja" belongs to the item before it ("hoitamiseen ja kehittämiseen").
pub(super) fn split_items(rest: &str, loose: bool) -> Vec<String> {
    // Nothing inside parentheses separates items: "Purenta Oy (proteesien ja kruunujen tiedot)".
    const SPACE: char = '\u{E000}';
    const COMMA: char = '\u{E001}';
    let mut depth = 0usize;
    let protected: String = trim_item(rest)
        .chars()
        .map(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            match c {
                ' ' if depth > 0 => SPACE,
                ',' | ';' if depth > 0 => COMMA,
                c => c,
            }
        })
        .collect();
    split_protected(&protected, loose)
        .into_iter()
        .map(|i| i.replace(SPACE, " ").replace(COMMA, ","))
        .collect()
}

fn split_protected(rest: &str, loose: bool) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for part in rest
        .split([',', ';'])
        .flat_map(|p| p.split(" sekä "))
        .flat_map(|p| p.split(" samt "))
    {
        let part = part.trim();
        let part = ["ja ", "och ", "and ", "sekä ", "samt "]
            .iter()
            .find_map(|c| part.strip_prefix(c))
            .unwrap_or(part)
            .trim();
        if part.is_empty() {
            continue;
        }
        let bare = part
            .split_whitespace()
            .filter(|w| !matches!(*w, "ja" | "tai" | "and" | "or" | "och" | "eller"))
            .all(|w| w.ends_with("miseen") || w.ends_with("miseksi") || w.ends_with("mista"));
        let mut pieces = split_conjunction(part, loose);
        match items.last_mut() {
            Some(prev) if bare && pieces.len() == 1 => {
                prev.push_str(", ");
                prev.push_str(part);
            }
            _ => items.append(&mut pieces),
        }
    }
    items
}

fn split_conjunction(part: &str, loose: bool) -> Vec<String> {
    for conj in [" ja ", " och ", " and "] {
        if let Some((left, right)) = part.rsplit_once(conj) {
            let (l, r) = (
                left.split_whitespace().count(),
                right.split_whitespace().count(),
            );
            let same_lead = left.split_whitespace().next() == right.split_whitespace().next()
                && right.starts_with("to ");
            // In a list of kinds of data, "X ja Y" at the end is two items unless "X-" is cut
            // ("laskutus- ja osoitetiedot").
            let enough = if loose {
                l >= 1 && r >= 1
            } else {
                l >= 2 && r >= 2
            };
            if (enough && !left.ends_with('-')) || same_lead {
                return vec![left.trim().to_owned(), right.trim().to_owned()];
            }
        }
    }
    vec![part.to_owned()]
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
