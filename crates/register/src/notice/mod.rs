//! The public privacy notice of a published register version: everything GDPR Art. 13/14 asks
//! for, in Finnish, Swedish or English, as HTML, Markdown or plain text, in the GDPR order or the
//! classic rekisteriseloste (Personal Data Act §10) order.
//!
//! A notice is first built as a small document model ([`Notice`]) and then written out, so every
//! format says the same thing.

mod phrases;
mod write;

pub use phrases::{Lang, Phrases, Section, standard_sentences};
pub use write::{to_html, to_markdown, to_text};

use chrono::{DateTime, Utc};

use crate::content::{
    DataSourceKind, LegalBasis, PostalAddress, RegisterContent, TransfersOutsideEea,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// GDPR Art. 13/14 privacy notice.
    Gdpr,
    /// The classic rekisteriseloste order.
    Section10,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Text,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(String),
    List(Vec<String>),
    /// Labelled values ("Nimi: ...").
    Fields(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSection {
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub lang: Lang,
    pub title: String,
    pub subtitle: String,
    pub register_name: String,
    pub version_line: String,
    pub sections: Vec<NoticeSection>,
}

/// Renders `content` (version `version`, published at `published`).
pub fn render(
    content: &RegisterContent,
    version: u32,
    published: DateTime<Utc>,
    lang: Lang,
    layout: Layout,
    format: Format,
) -> String {
    let notice = build(content, version, published, lang, layout);
    match format {
        Format::Html => to_html(&notice),
        Format::Markdown => to_markdown(&notice),
        Format::Text => to_text(&notice),
    }
}

pub fn build(
    content: &RegisterContent,
    version: u32,
    published: DateTime<Utc>,
    lang: Lang,
    layout: Layout,
) -> Notice {
    // The register's texts in the notice's language; those it has only in another are marked.
    let (localised, _) = content.in_language(lang);
    let content = &localised;
    let p = lang.phrases();
    let date = match lang {
        Lang::En => published.format("%Y-%m-%d").to_string(),
        _ => published.format("%-d.%-m.%Y").to_string(),
    };
    let order: &[Section] = match layout {
        Layout::Gdpr => &[
            Section::Controller,
            Section::Contact,
            Section::Name,
            Section::Purposes,
            Section::Basis,
            Section::Subjects,
            Section::Categories,
            Section::Sources,
            Section::Disclosures,
            Section::Transfers,
            Section::Retention,
            Section::Rights,
            Section::Complaint,
            Section::Security,
        ],
        Layout::Section10 => &[
            Section::Controller,
            Section::Contact,
            Section::Name,
            Section::Basis,
            Section::Purposes,
            Section::Subjects,
            Section::Categories,
            Section::Sources,
            Section::Disclosures,
            Section::Transfers,
            Section::Security,
            Section::Access,
            Section::Rectification,
            Section::Retention,
            Section::Marketing,
            Section::Rights,
            Section::Complaint,
        ],
    };
    let sections = order
        .iter()
        .filter_map(|&section| {
            let blocks = blocks(content, section, p, layout);
            (!blocks.is_empty()).then(|| NoticeSection {
                heading: p.heading(section).to_owned(),
                blocks,
            })
        })
        .enumerate()
        .map(|(i, mut s)| {
            s.heading = format!("{}. {}", i + 1, s.heading);
            s
        })
        .collect();
    let (title, subtitle) = match layout {
        Layout::Gdpr => (p.title_gdpr, p.subtitle_gdpr),
        Layout::Section10 => (p.title_section10, p.subtitle_section10),
    };
    Notice {
        lang,
        title: title.to_owned(),
        subtitle: subtitle.to_owned(),
        register_name: content.name.clone(),
        version_line: p.version_line(version, &date),
        sections,
    }
}

fn address(a: &PostalAddress) -> String {
    let mut parts: Vec<String> = a.lines.clone();
    let place = [a.postal_code.as_str(), a.post_office.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if !place.is_empty() {
        parts.push(place);
    }
    if !a.country_code.is_empty() && a.country_code != "FI" {
        parts.push(a.country_code.clone());
    }
    parts.join(", ")
}

fn fields(pairs: &[(&str, String)]) -> Vec<Block> {
    let present: Vec<(String, String)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(l, v)| (l.to_string(), v.clone()))
        .collect();
    if present.is_empty() {
        vec![]
    } else {
        vec![Block::Fields(present)]
    }
}

/// A free text as paragraphs, the first one labelled when a label is given.
fn labelled_text(label: Option<&str>, text: &str) -> Vec<Block> {
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| match (i, label) {
            (0, Some(label)) => Block::Paragraph(format!("{label}: {line}")),
            _ => Block::Paragraph(line.to_owned()),
        })
        .collect()
}

fn blocks(c: &RegisterContent, section: Section, p: &Phrases, layout: Layout) -> Vec<Block> {
    match section {
        Section::Controller => fields(&[
            (p.label_name, c.controller.name.clone()),
            (
                p.label_business_id,
                c.controller
                    .business_id
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            ),
            (p.label_address, address(&c.controller.address)),
            (p.label_phone, c.controller.phone.clone()),
            (p.label_email, c.controller.email.clone()),
        ]),
        Section::Contact => fields(&[
            (p.label_name, c.contact_person.name.clone()),
            (p.label_role, c.contact_person.role.clone()),
            (p.label_address, address(&c.contact_person.address)),
            (p.label_phone, c.contact_person.phone.clone()),
            (p.label_email, c.contact_person.email.clone()),
        ]),
        Section::Name => vec![Block::Paragraph(c.name.clone())],
        Section::Purposes => vec![Block::List(c.purposes.clone())],
        Section::Basis => {
            let mut blocks = vec![Block::List(
                c.legal_bases
                    .iter()
                    .map(|b| format!("{} ({})", p.legal_basis(*b), p.legal_basis_article(*b)))
                    .collect(),
            )];
            blocks.extend(labelled_text(None, &c.legal_basis_description));
            blocks
        }
        Section::Subjects if c.data_subject_groups.is_empty() => vec![],
        Section::Subjects => vec![Block::List(c.data_subject_groups.clone())],
        Section::Categories => vec![Block::List(
            c.data_categories
                .iter()
                .map(|d| {
                    let mut item = d.description.clone();
                    for (flag, marker) in [
                        (d.national_identity_code, p.marker_identity_code),
                        (d.special_category, p.marker_special_category),
                        (d.company_data, p.marker_company_data),
                    ] {
                        if flag {
                            item = format!("{item} {marker}");
                        }
                    }
                    item
                })
                .collect(),
        )],
        Section::Sources if c.sources.is_empty() => vec![],
        Section::Sources => vec![Block::List(
            c.sources
                .iter()
                .map(|s| {
                    let who = match s.kind {
                        DataSourceKind::DataSubject => p.data_subject_itself.to_owned(),
                        DataSourceKind::External => match &s.organisation_business_id {
                            Some(id) => {
                                format!("{} ({} {id})", s.organisation_name, p.label_business_id)
                            }
                            None => s.organisation_name.clone(),
                        },
                    };
                    if s.supplies.is_empty() {
                        who
                    } else {
                        format!("{who}: {}", s.supplies)
                    }
                })
                .collect(),
        )],
        Section::Disclosures if c.disclosures.is_empty() => {
            vec![Block::Paragraph(p.disclosures_none.into())]
        }
        Section::Disclosures => vec![Block::List(
            c.disclosures
                .iter()
                .map(|d| {
                    let mut item = d.recipient.clone();
                    if !d.purpose.is_empty() {
                        item = format!("{item}: {}", d.purpose);
                    }
                    if let Some(b) = d.legal_basis {
                        item = format!("{item} ({}: {})", p.disclosure_basis, p.legal_basis(b));
                    }
                    item
                })
                .collect(),
        )],
        Section::Transfers => match c.transfers_outside_eea {
            None => vec![],
            Some(TransfersOutsideEea::None) => vec![Block::Paragraph(p.transfers_none.into())],
            Some(TransfersOutsideEea::Some) => vec![
                Block::Paragraph(p.transfers_some.into()),
                Block::List(
                    c.transfers
                        .iter()
                        .map(|t| {
                            let base = format!("{}: {}.", t.country_code, p.safeguard(t.safeguard));
                            if t.description.is_empty() {
                                base
                            } else {
                                format!("{base} {}", t.description)
                            }
                        })
                        .collect(),
                ),
            ],
        },
        Section::Retention => match &c.retention {
            None => vec![],
            Some(rule) => {
                let mut blocks = vec![Block::Paragraph(p.retention(rule))];
                blocks.extend(labelled_text(None, &rule.description));
                blocks
            }
        },
        Section::Rights => {
            let mut blocks = Vec::new();
            let fixed: &[&str] = match layout {
                Layout::Gdpr => &p.rights,
                // Access, rectification and marketing have sections of their own there.
                Layout::Section10 => &p.rights[2..3],
            };
            blocks.extend(fixed.iter().map(|s| Block::Paragraph(s.to_string())));
            if c.legal_bases.contains(&LegalBasis::Consent) {
                blocks.push(Block::Paragraph(p.right_withdraw_consent.into()));
            }
            if c.legal_bases
                .iter()
                .any(|b| matches!(b, LegalBasis::Consent | LegalBasis::Contract))
            {
                blocks.push(Block::Paragraph(p.right_portability.into()));
            }
            if layout == Layout::Gdpr {
                blocks.extend(labelled_text(Some(p.label_access), &c.rights.access));
                blocks.extend(labelled_text(
                    Some(p.label_rectification),
                    &c.rights.rectification,
                ));
                blocks.extend(labelled_text(
                    Some(p.label_marketing),
                    &c.rights.marketing_prohibition,
                ));
            }
            blocks.push(Block::Paragraph(p.rights_requests.into()));
            blocks
        }
        Section::Access => {
            let mut blocks = vec![Block::Paragraph(p.rights[0].into())];
            blocks.extend(labelled_text(None, &c.rights.access));
            blocks
        }
        Section::Rectification => {
            let mut blocks = vec![Block::Paragraph(p.rights[1].into())];
            blocks.extend(labelled_text(None, &c.rights.rectification));
            blocks
        }
        Section::Marketing => {
            let mut blocks = vec![Block::Paragraph(p.rights[3].into())];
            blocks.extend(labelled_text(None, &c.rights.marketing_prohibition));
            blocks
        }
        Section::Complaint => p
            .complaint
            .iter()
            .map(|s| Block::Paragraph(s.to_string()))
            .collect(),
        Section::Security => {
            let mut blocks = labelled_text(Some(p.label_manual), &c.security.manual_material);
            blocks.extend(labelled_text(
                Some(p.label_electronic),
                &c.security.electronic_systems,
            ));
            blocks
        }
    }
}
