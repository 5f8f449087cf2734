//! Writing a [`Notice`] out as HTML, Markdown or plain text.

use std::fmt::Write as _;

use super::{Block, Notice};

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  line-height: 1.55; color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header { border-bottom: 2px solid #1b1b1b; margin-bottom: 1.5rem; padding-bottom: 1rem; }
h1 { font-size: 2rem; margin: 0 0 .25rem; }
.register { font-size: 1.25rem; font-weight: 600; margin: .25rem 0; }
.subtitle, .version { color: #444; margin: .25rem 0; }
nav ul { list-style: none; padding-left: 0; columns: 2; column-gap: 2rem; }
nav li { break-inside: avoid; }
nav a { color: #0b4f8a; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; break-after: avoid; page-break-after: avoid; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
ul { padding-left: 1.25rem; }
li { margin: .2rem 0; }
a:focus, a:hover { outline: 2px solid #0b4f8a; outline-offset: 2px; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  section { break-inside: avoid-page; }
  a { color: inherit; text-decoration: none; }
}
";

pub fn to_html(notice: &Notice) -> String {
    let lang = notice.lang.code();
    let mut html = String::new();
    let title = format!("{}: {}", notice.title, notice.register_name);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Rekisteri\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>{}</h1>\n<p class=\"register\">{}</p>\n<p class=\"subtitle\">{}</p>\n<p class=\"version\">{}</p>\n</header>\n",
        escape_html(&title),
        escape_html(&notice.title),
        escape_html(&notice.register_name),
        escape_html(&notice.subtitle),
        escape_html(&notice.version_line),
    );
    let contents = match notice.lang {
        super::Lang::Fi => "Sisällys",
        super::Lang::Sv => "Innehåll",
        super::Lang::En => "Contents",
    };
    let _ = write!(html, "<nav aria-label=\"{contents}\">\n<ul>\n");
    for (i, section) in notice.sections.iter().enumerate() {
        let _ = writeln!(
            html,
            "<li><a href=\"#s{}\">{}</a></li>",
            i + 1,
            escape_html(&section.heading)
        );
    }
    html.push_str("</ul>\n</nav>\n");
    for (i, section) in notice.sections.iter().enumerate() {
        let id = format!("s{}", i + 1);
        let _ = write!(
            html,
            "<section aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{}</h2>\n",
            escape_html(&section.heading)
        );
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(html, "<p>{}</p>", escape_html(text));
                }
                Block::List(items) => {
                    html.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(html, "<li>{}</li>", escape_html(item));
                    }
                    html.push_str("</ul>\n");
                }
                Block::Fields(fields) => {
                    html.push_str("<dl>\n");
                    for (label, value) in fields {
                        let _ = writeln!(
                            html,
                            "<dt>{}:</dt><dd>{}</dd>",
                            escape_html(label),
                            escape_html(value)
                        );
                    }
                    html.push_str("</dl>\n");
                }
            }
        }
        html.push_str("</section>\n");
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// Escapes what Markdown would take for structure at the start of a line.
fn escape_markdown(text: &str) -> String {
    let text = text.replace('*', "\\*").replace('_', "\\_");
    match text.chars().next() {
        Some('#' | '-' | '+' | '>') => format!("\\{text}"),
        Some(c)
            if c.is_ascii_digit()
                && text
                    .split_once(". ")
                    .is_some_and(|(n, _)| n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            format!("\\{text}")
        }
        _ => text,
    }
}

pub fn to_markdown(notice: &Notice) -> String {
    let mut md = format!(
        "# {}\n\n**{}**\n\n{}\n\n{}\n",
        notice.title,
        escape_markdown(&notice.register_name),
        escape_markdown(&notice.subtitle),
        escape_markdown(&notice.version_line)
    );
    for section in &notice.sections {
        let _ = write!(md, "\n## {}\n", section.heading);
        for block in &section.blocks {
            md.push('\n');
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(md, "{}", escape_markdown(text));
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(md, "- {}", escape_markdown(item));
                    }
                }
                Block::Fields(fields) => {
                    for (label, value) in fields {
                        let _ = writeln!(md, "- **{label}:** {}", escape_markdown(value));
                    }
                }
            }
        }
    }
    md
}

pub fn to_text(notice: &Notice) -> String {
    let mut text = format!(
        "{}\n{}\n{}\n{}\n",
        notice.title.to_uppercase(),
        notice.register_name,
        notice.subtitle,
        notice.version_line
    );
    for section in &notice.sections {
        let _ = write!(text, "\n\n{}\n", section.heading.to_uppercase());
        for block in &section.blocks {
            text.push('\n');
            match block {
                Block::Paragraph(p) => {
                    let _ = writeln!(text, "{p}");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(text, "- {item}");
                    }
                }
                Block::Fields(fields) => {
                    for (label, value) in fields {
                        let _ = writeln!(text, "{label}: {value}");
                    }
                }
            }
        }
    }
    text
}
