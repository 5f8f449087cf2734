//! From bytes to lines, paragraphs and sentences: encodings, HTML and Markdown, bullets,
//! non-breaking spaces and other debris of word processors.

/// Decodes UTF-8, UTF-16 with its byte-order mark (as Windows Notepad saves), or else
/// Windows-1252 (a superset of ISO-8859-1, the usual encoding of older Finnish documents). `None`
/// for binary data.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], unit: fn([u8; 2]) -> u16| -> Option<String> {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
        // A stray unpaired surrogate becomes U+FFFD rather than failing the whole document.
        Some(String::from_utf16_lossy(&units))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(rest, u16::from_le_bytes).and_then(|t| decode(t.as_bytes()));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(rest, u16::from_be_bytes).and_then(|t| decode(t.as_bytes()));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    };
    // Text has few control characters; binary data has many (and NULs).
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    if text.contains('\0') || controls * 100 > text.chars().count().max(1) {
        return None;
    }
    Some(text)
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Whether the text is an HTML document rather than plain text or Markdown.
pub fn looks_like_html(text: &str) -> bool {
    let head: String = text.chars().take(2000).collect::<String>().to_lowercase();
    head.contains("<html")
        || head.contains("<!doctype html")
        || (head.contains("<p>") && head.contains("</p>"))
}

/// HTML to text with one line per block: headings become Markdown headings, list items bullets,
/// the table of contents and scripts are dropped.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    // ASCII lower-casing keeps byte offsets equal to the original's.
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let end = match html[i..].find('>') {
                Some(e) => i + e + 1,
                None => break,
            };
            let tag = &lower[i + 1..end - 1];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let closing = tag.starts_with('/');
            // Skip the contents of elements that are not the document's text.
            if !closing
                && matches!(
                    name.as_str(),
                    "script" | "style" | "head" | "nav" | "template"
                )
            {
                let close = format!("</{name}");
                i = lower[end..].find(&close).map_or(bytes.len(), |p| {
                    let after = end + p;
                    lower[after..]
                        .find('>')
                        .map_or(bytes.len(), |q| after + q + 1)
                });
                continue;
            }
            match (name.as_str(), closing) {
                ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", false) => out.push_str("\n# "),
                ("li", false) => out.push_str("\n- "),
                ("dt", false) => out.push('\n'),
                ("dd", false) => out.push(' '),
                ("br", _) => out.push('\n'),
                (
                    "p" | "div" | "section" | "header" | "footer" | "main" | "article" | "ul"
                    | "ol" | "dl" | "tr" | "table" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li"
                    | "dd" | "blockquote" | "title",
                    _,
                ) => out.push('\n'),
                ("td" | "th", true) => out.push(' '),
                _ => {}
            }
            i = end;
        } else {
            let next = html[i..].find('<').map_or(bytes.len(), |p| i + p);
            out.push_str(&decode_entities(&html[i..next].replace(['\n', '\r'], " ")));
            i = next;
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "auml" => Some('ä'),
            "ouml" => Some('ö'),
            "aring" => Some('å'),
            "Auml" => Some('Ä'),
            "Ouml" => Some('Ö'),
            "Aring" => Some('Å'),
            "ndash" => Some('–'),
            "mdash" => Some('—'),
            "euro" => Some('€'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One non-empty line of the document.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based line number in the (decoded) input.
    pub no: u32,
    /// As written, trimmed.
    pub raw: String,
    /// Normalised: spaces folded, bullet and Markdown markup removed.
    pub text: String,
    pub bullet: bool,
    /// A Markdown heading (`# ...`), which is a heading whatever it says.
    pub marked_heading: bool,
}

/// Folds every kind of white space to one space and drops invisible characters.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        match c {
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}' => {}
            c if c.is_whitespace() || c == '\u{a0}' => space = true,
            c if c.is_control() => space = true,
            c => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    out
}

const BULLETS: &[&str] = &[
    "•", "◦", "▪", "▫", "‣", "⁃", "●", "○", "■", "□", "➢", "►", "\u{f0b7}", "\u{f0a7}", "–", "—",
    "-", "*", "·", "+",
];

/// Strips a list marker; true when there was one.
fn strip_bullet(text: &str) -> (String, bool) {
    for b in BULLETS {
        if let Some(rest) = text.strip_prefix(b) {
            // "-5 %" or "*important*" are not bullets.
            if rest.starts_with(' ') || (*b != "-" && *b != "*" && *b != "+") {
                return (rest.trim_start().to_owned(), true);
            }
        }
    }
    // "o " as exported by word processors, "a) " and "1) " as list items.
    if let Some(rest) = text
        .strip_prefix("o ")
        .filter(|r| r.chars().next().is_some_and(char::is_alphabetic))
    {
        return (rest.to_owned(), true);
    }
    let marker_len = text.chars().take_while(|c| c.is_ascii_digit()).count();
    if (1..=2).contains(&marker_len) && text[marker_len..].starts_with(") ") {
        return (text[marker_len + 2..].to_owned(), true);
    }
    // "1. osakasluettelon ylläpitämiseen": a numbered item; a numbered heading is capitalised.
    if (1..=2).contains(&marker_len)
        && text[marker_len..].starts_with(". ")
        && text[marker_len + 2..]
            .chars()
            .next()
            .is_some_and(char::is_lowercase)
    {
        return (text[marker_len + 2..].to_owned(), true);
    }
    if text.len() > 3 && text.as_bytes()[0].is_ascii_lowercase() && text[1..].starts_with(") ") {
        return (text[3..].to_owned(), true);
    }
    (text.to_owned(), false)
}

/// Removes Markdown emphasis and escapes.
fn strip_markdown(text: &str) -> String {
    let text = text.replace("**", "").replace("__", "");
    // "_Last updated: 2 February 2025_"
    let text = match text
        .strip_prefix(['_', '*'])
        .and_then(|t| t.strip_suffix(['_', '*']))
    {
        Some(inner) if !inner.is_empty() => inner.to_owned(),
        _ => text,
    };
    let text = text.strip_prefix('\\').unwrap_or(&text).to_owned();
    text.replace("\\*", "*").replace("\\_", "_")
}

/// Lines that are only decoration: "=====", "-----", "*****".
fn is_decoration(text: &str) -> bool {
    text.len() >= 3
        && text
            .chars()
            .all(|c| matches!(c, '=' | '-' | '_' | '*' | '~' | '#' | '.' | ' '))
}

pub fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let normalised = normalise(raw);
        if normalised.is_empty() || is_decoration(&normalised) {
            continue;
        }
        let (mut text, mut marked_heading) = (normalised.clone(), false);
        if let Some(rest) = text.strip_prefix('#') {
            let rest = rest.trim_start_matches('#');
            if rest.starts_with(' ') {
                text = rest.trim().to_owned();
                marked_heading = true;
            }
        }
        let (text, bullet) = if marked_heading {
            (text, false)
        } else {
            strip_bullet(&text)
        };
        let text = normalise(&strip_markdown(&text));
        if text.is_empty() {
            continue;
        }
        out.push(Line {
            no: i as u32 + 1,
            raw: normalised,
            text,
            bullet,
            marked_heading,
        });
    }
    out
}

/// Words that end in a full stop without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "esim", "mm", "ns", "jne", "yms", "tms", "ym", "ks", "vrt", "n", "ao", "eli", "puh", "p", "s",
    "kpl", "klo", "t.ex", "bl.a", "e.g", "i.e", "etc", "nr", "no", "inc", "ltd", "co", "st", "oy",
    "ab", "tel", "fig", "art", "kohd", "mom",
];

/// Splits a paragraph into sentences (at ". ", "! ", "? " followed by a capital or a digit,
/// except after abbreviations and numbers like "10 §:n").
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '.' | '!' | '?') && i + 2 < chars.len() && chars[i + 1] == ' ' {
            let next = chars[i + 2];
            let word: String = chars[start..i]
                .iter()
                .rev()
                .take_while(|c| !c.is_whitespace() && **c != '(')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
                .to_lowercase();
            let is_abbreviation = c == '.'
                && (ABBREVIATIONS.contains(&word.as_str())
                    // "U.S.", "t.ex.", "EU-U.S.": short parts between dots; not "www.example.fi".
                    || (word.contains('.') && word.split(['.', '-']).all(|part| part.chars().count() <= 3))
                    || word.chars().all(|ch| ch.is_ascii_digit()));
            if (next.is_uppercase() || next == '"' || next == '(') && !is_abbreviation {
                out.push(
                    chars[start..=i]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_owned(),
                );
                start = i + 2;
            }
        }
        i += 1;
    }
    let last: String = chars[start..].iter().collect::<String>().trim().to_owned();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_documents_decode_and_binary_does_not() {
        assert_eq!(
            decode(b"Rekisterinpit\xe4j\xe4").unwrap(),
            "Rekisterinpitäjä"
        );
        assert_eq!(
            decode("Rekisterinpitäjä".as_bytes()).unwrap(),
            "Rekisterinpitäjä"
        );
        assert!(decode(&[0u8, 159, 146, 150, 0, 1, 2, 3]).is_none());
    }

    #[test]
    fn lines_lose_bullets_and_debris() {
        let ls = lines(
            "  •\u{a0}Rekisteröidyn  perustiedot\n\n-----\n- asiakkaan tiedot\n## 3. Rekisterin nimi\n**Nimi:** X\n",
        );
        let texts: Vec<_> = ls
            .iter()
            .map(|l| (l.no, l.text.as_str(), l.bullet, l.marked_heading))
            .collect();
        assert_eq!(
            texts,
            [
                (1, "Rekisteröidyn perustiedot", true, false),
                (4, "asiakkaan tiedot", true, false),
                (5, "3. Rekisterin nimi", false, true),
                (6, "Nimi: X", false, false)
            ]
        );
    }

    #[test]
    fn sentences_respect_abbreviations() {
        assert_eq!(
            sentences(
                "Tietoja luovutetaan esim. viranomaisille. Tietoja ei siirretä EU:n ulkopuolelle."
            ),
            [
                "Tietoja luovutetaan esim. viranomaisille.",
                "Tietoja ei siirretä EU:n ulkopuolelle."
            ]
        );
        assert_eq!(
            sentences("Henkilötietolain 26 §:n mukaisesti. Toinen."),
            ["Henkilötietolain 26 §:n mukaisesti.", "Toinen."]
        );
    }

    #[test]
    fn html_becomes_lines() {
        let text = html_to_text(
            "<html><head><title>x</title></head><body><nav><a>skip</a></nav><h2>1. Rekisterinpit&auml;j&auml;</h2><dl><dt>Nimi:</dt><dd>A &amp; B Oy</dd></dl><ul><li>yksi</li></ul></body></html>",
        );
        let ls: Vec<_> = lines(&text).into_iter().map(|l| l.text).collect();
        assert_eq!(ls, ["1. Rekisterinpitäjä", "Nimi: A & B Oy", "yksi"]);
    }
}
