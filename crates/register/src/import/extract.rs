//! Turning each recognised section into fields of the draft, recording the evidence for every
//! field and the reason for every line left unmapped.

use std::collections::BTreeSet;

use rekisteri_identifiers::BusinessId;

use super::parse::*;
use super::report::{ImportReport, MappedField, SectionReport, UnmappedLine};
use super::text::{self, Line};
use super::vocab::{self, Kind, Label};
use super::{Imported, Para, Section, is_standard, paragraphs};
use crate::content::{
    Controller, DataCategory, DataSource, DataSourceKind, Disclosure, LegalBasis, PostalAddress,
    RegisterContent, RetentionRule, RetentionTrigger, ThirdCountryTransfer, TransferSafeguard,
    TransfersOutsideEea,
};
use crate::notice::Lang;

pub(super) struct Builder {
    content: RegisterContent,
    report: ImportReport,
    used: BTreeSet<u32>,
}

/// Where a labelled or free-text field of the rights and security sections goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Access,
    Rectification,
    Marketing,
    Manual,
    Electronic,
}

impl Builder {
    pub(super) fn new(lang: Lang, source_name: &str) -> Self {
        Builder {
            content: RegisterContent::default(),
            report: ImportReport {
                source_name: source_name.to_owned(),
                language: lang.code().to_owned(),
                ..Default::default()
            },
            used: BTreeSet::new(),
        }
    }

    fn map(
        &mut self,
        field: impl Into<String>,
        value: impl Into<String>,
        evidence: impl Into<String>,
        lines: &[u32],
    ) {
        self.used.extend(lines.iter().copied());
        self.report.mapped.push(MappedField {
            field: field.into(),
            value: value.into(),
            evidence: evidence.into(),
            lines: lines.to_vec(),
        });
    }

    fn unmap(&mut self, lines: &[u32], text: &str, section: &str, reason: &str) {
        self.report.unmapped.push(UnmappedLine {
            line: lines.first().copied().unwrap_or(0),
            text: text.to_owned(),
            section: section.to_owned(),
            reason: reason.to_owned(),
        });
    }

    pub(super) fn section(&mut self, s: &Section<'_>) {
        // "Rekisteröidyt: varsinaiset jäsenet, ..." inside "Rekisterin perustiedot": a labelled
        // line whose label names another section is read as that section.
        let mut own: Vec<&Line> = Vec::new();
        let mut elsewhere: Vec<(Kind, Line)> = Vec::new();
        for line in &s.lines {
            let dispatch = line.text.split_once(": ").and_then(|(label, value)| {
                let kind = vocab::heading_kind(label)?;
                (kind != s.kind
                    && label.split_whitespace().count() <= 5
                    && !value.trim().is_empty()
                    && matches!(
                        kind,
                        Kind::Name
                            | Kind::Subjects
                            | Kind::Purposes
                            | Kind::Basis
                            | Kind::PurposesAndBasis
                            | Kind::Retention
                            | Kind::Content
                            | Kind::Sources
                            | Kind::Transfers
                    ))
                .then(|| (kind, value.trim().to_owned()))
            });
            match dispatch {
                Some((kind, value)) => elsewhere.push((
                    kind,
                    Line {
                        text: value,
                        ..(*line).clone()
                    },
                )),
                None => own.push(line),
            }
        }
        if !elsewhere.is_empty() {
            self.section_lines(&Section {
                heading: s.heading,
                kind: s.kind,
                lines: own,
            });
            for (kind, line) in &elsewhere {
                self.used.insert(line.no);
                self.section_lines(&Section {
                    heading: s.heading,
                    kind: *kind,
                    lines: vec![line],
                });
            }
            return;
        }
        self.section_lines(s);
    }

    fn section_lines(&mut self, s: &Section<'_>) {
        let original: Vec<&str> = s
            .heading
            .iter()
            .chain(s.lines.iter())
            .map(|l| l.raw.as_str())
            .collect();
        if s.heading.is_some() || !s.lines.is_empty() {
            self.report.sections.push(SectionReport {
                heading: s.heading.map(|h| h.raw.clone()).unwrap_or_default(),
                kind: s.kind.key().to_owned(),
                line: s.heading.or(s.lines.first().copied()).map_or(0, |l| l.no),
                original_text: original.join("\n"),
            });
        }
        if let Some(h) = s.heading {
            self.used.insert(h.no);
        }
        match s.kind {
            Kind::Preamble => self.preamble(s),
            Kind::Controller => self.party(s, false),
            Kind::Contact => self.party(s, true),
            Kind::Name => self.name(s),
            Kind::Basis => self.basis(s),
            Kind::PurposesAndBasis => {
                // "Käsittelyn tarkoitus ja oikeusperuste": what names a basis is the basis.
                let (basis, purposes): (Vec<&Line>, Vec<&Line>) = s.lines.iter().partition(|l| {
                    let lower = l.text.to_lowercase();
                    ["peruste", "basis", "grund"]
                        .iter()
                        .any(|w| lower.contains(w))
                        && !vocab::bases_in(&l.text).is_empty()
                });
                self.basis(&Section {
                    heading: s.heading,
                    kind: Kind::Basis,
                    lines: basis,
                });
                self.purposes(&Section {
                    heading: s.heading,
                    kind: Kind::Purposes,
                    lines: purposes,
                });
            }
            Kind::Purposes => self.purposes(s),
            Kind::Subjects => self.subjects(s),
            Kind::Content => self.data_content(s),
            Kind::Sources => self.sources(s),
            Kind::Disclosures | Kind::Transfers => self.disclosures(s),
            Kind::Retention => self.retention(s),
            Kind::Security => self.texts(s, Target::Electronic),
            Kind::Access | Kind::Rights => self.texts(s, Target::Access),
            Kind::Rectification => self.texts(s, Target::Rectification),
            Kind::Marketing => self.texts(s, Target::Marketing),
            Kind::Complaint => {
                for line in &s.lines {
                    if is_standard(&line.text) {
                        self.map(
                            "(standard text)",
                            &line.text,
                            "the right to complain, as a rendered notice states it",
                            &[line.no],
                        );
                    } else {
                        self.unmap(
                            &[line.no],
                            &line.text,
                            &s.name(),
                            "the notice states the right to complain itself",
                        );
                    }
                }
            }
            Kind::Unknown => {
                for line in &s.lines {
                    self.unmap(
                        &[line.no],
                        &line.text,
                        &s.name(),
                        "this section is not part of a register description",
                    );
                }
            }
        }
    }

    fn preamble(&mut self, s: &Section<'_>) {
        for line in &s.lines {
            if is_standard(&line.text) {
                self.map(
                    "(standard text)",
                    &line.text,
                    "fixed text of a rendered notice",
                    &[line.no],
                );
            } else if vocab::is_document_date(&line.text) {
                self.map(
                    "(document date)",
                    &line.text,
                    "when the document was written or updated",
                    &[line.no],
                );
            } else if vocab::is_title(&line.text) {
                self.map(
                    "(document title)",
                    &line.text,
                    "names the kind of document",
                    &[line.no],
                );
            } else {
                self.unmap(
                    &[line.no],
                    &line.text,
                    &s.name(),
                    "text before the first heading",
                );
            }
        }
    }

    fn party(&mut self, s: &Section<'_>, contact: bool) {
        let section = s.name();
        let prefix = if contact {
            "contact_person"
        } else {
            "controller"
        };
        let mut name = String::new();
        let mut address = PostalAddress::default();
        let (mut phone, mut email, mut role) = (String::new(), String::new(), String::new());
        let mut business_id = None;
        let mut contact_name = String::new();
        for line in &s.lines {
            let no = [line.no];
            let evidence =
                |what: &str| format!("{what} in section \"{section}\" (line {})", line.no);
            // "Rekisterinpitäjänä toimii Esimerkki Oy (Y-tunnus ...), osoitteessa ...": prose.
            if line.text.split_whitespace().count() >= 12 {
                let p = prose_party(&line.text, contact);
                let mut took = Vec::new();
                if name.is_empty() && !p.name.is_empty() {
                    name = p.name;
                    took.push("name");
                }
                if !contact && business_id.is_none() && p.business_id.is_some() {
                    business_id = p.business_id;
                    took.push("business_id");
                }
                if address == PostalAddress::default() && p.address != PostalAddress::default() {
                    address = p.address;
                    took.push("address");
                }
                if phone.is_empty() && !p.phone.is_empty() {
                    phone = p.phone;
                    took.push("phone");
                }
                if email.is_empty() && !p.email.is_empty() {
                    email = p.email;
                    took.push("email");
                }
                if !contact && !p.contact_name.is_empty() {
                    contact_name = p.contact_name;
                    took.push("contact_person.name");
                    if !p.contact_email.is_empty() {
                        self.content.contact_person.email = p.contact_email;
                        took.push("contact_person.email");
                    }
                }
                if took.is_empty() {
                    self.unmap(
                        &no,
                        &line.text,
                        &section,
                        "not recognised as part of the contact details",
                    );
                } else {
                    for field in took {
                        let field = if field.starts_with("contact_person") {
                            field.to_owned()
                        } else {
                            format!("{prefix}.{field}")
                        };
                        self.map(field, &line.text, evidence("a sentence"), &no);
                    }
                }
                continue;
            }
            let heading_label = (strip_heading_label(&line.text, s.kind) != line.text)
                .then(|| strip_heading_label(&line.text, s.kind));
            let label =
                vocab::label(&line.text).or_else(|| heading_label.map(|v| (Label::Name, v)));
            match label {
                Some((Label::Name | Label::ContactPerson, v))
                    if name.is_empty()
                        && !v.is_empty()
                        && (contact || matches!(label, Some((Label::Name, _)))) =>
                {
                    name = if contact {
                        let (person, title) = person_name(&v);
                        if let Some(title) = title.filter(|_| role.is_empty()) {
                            self.map(
                                "contact_person.role",
                                &title,
                                evidence("a title with the name"),
                                &no,
                            );
                            role = title;
                        }
                        person
                    } else {
                        trim_item(&v)
                    };
                    if name.is_empty() {
                        self.unmap(&no, &line.text, &section, "a role, not a person's name");
                    } else {
                        self.map(format!("{prefix}.name"), &name, evidence("label"), &no);
                    }
                }
                Some((Label::BusinessId, v)) => match business_id_in(&v).map(BusinessId::parse) {
                    Some(Ok(id)) if !contact => {
                        self.map(
                            format!("{prefix}.business_id"),
                            id.as_str(),
                            evidence("label"),
                            &no,
                        );
                        business_id = Some(id);
                    }
                    Some(Err(e)) => self.unmap(
                        &no,
                        &line.text,
                        &section,
                        &format!("not a valid business ID: {e}"),
                    ),
                    _ => self.unmap(
                        &no,
                        &line.text,
                        &section,
                        "no business ID found after the label",
                    ),
                },
                Some((Label::Address, v)) => {
                    self.address(&v, &mut address);
                    self.map(format!("{prefix}.address"), &v, evidence("label"), &no);
                }
                Some((Label::Phone, v)) => match phone_in(&v) {
                    Some(p) if phone.is_empty() => {
                        self.map(format!("{prefix}.phone"), &p, evidence("label"), &no);
                        phone = p;
                    }
                    _ => self.unmap(
                        &no,
                        &line.text,
                        &section,
                        "not a phone number, or a second one",
                    ),
                },
                Some((Label::Email, v)) => match email_in(&v).filter(|e| !is_template_email(e)) {
                    Some(e) if email.is_empty() => {
                        self.map(format!("{prefix}.email"), &e, evidence("label"), &no);
                        email = e;
                    }
                    _ => self.unmap(
                        &no,
                        &line.text,
                        &section,
                        "not an email address, or a second one",
                    ),
                },
                Some((Label::Role, v)) if contact => {
                    role = trim_item(&v);
                    self.map("contact_person.role", &role, evidence("label"), &no);
                }
                Some((Label::ContactPerson, v)) if !contact && !v.is_empty() => {
                    // "Rekisteriasioista vastaava henkilö: Vesa Heinonen" inside the controller section.
                    let (person, _) = person_name(&v);
                    self.map("contact_person.name", &person, evidence("label"), &no);
                    contact_name = person;
                    if let Some(e) = email_in(&v) {
                        self.map(
                            "contact_person.email",
                            &e,
                            evidence("email after the contact person's name"),
                            &no,
                        );
                        self.content.contact_person.email = e;
                    }
                }
                Some(_) => self.unmap(
                    &no,
                    &line.text,
                    &section,
                    "a label this section does not use",
                ),
                None => {
                    let text = line.text.as_str();
                    let role_like = [
                        "tietosuojavastaava",
                        "data protection officer",
                        "dataskyddsombud",
                        "dpo",
                        "asiakaspalvelu",
                        "customer service",
                        "kundtjänst",
                    ]
                    .contains(&text.to_lowercase().trim_end_matches('.'));
                    if contact && role_like && role.is_empty() {
                        role = trim_item(text);
                        self.map("contact_person.role", &role, evidence("a role"), &no);
                    } else if let Some(e) = email_in(text).filter(|e| is_template_email(e)) {
                        self.unmap(
                            &no,
                            text,
                            &section,
                            &format!("`{e}` is a pattern for addresses, not an address"),
                        );
                    } else if let Some(e) = email_in(text).filter(|_| email.is_empty()) {
                        self.map(
                            format!("{prefix}.email"),
                            &e,
                            evidence("an email address"),
                            &no,
                        );
                        email = e;
                    } else if let Some((code, office)) =
                        text.rsplit(", ").next().and_then(postal_line)
                    {
                        for part in text.split(", ").filter(|p| postal_line(p).is_none()) {
                            address.lines.push(part.trim().to_owned());
                        }
                        address.postal_code = code;
                        address.post_office = office;
                        self.map(
                            format!("{prefix}.address"),
                            text,
                            evidence("a postal code and post office"),
                            &no,
                        );
                    } else if let Some(id) = business_id_in(text)
                        .and_then(|id| BusinessId::parse(id).ok())
                        .filter(|_| !contact && business_id.is_none())
                    {
                        self.map(
                            format!("{prefix}.business_id"),
                            id.as_str(),
                            evidence("a business ID"),
                            &no,
                        );
                        // "Esimerkki Oy (Y-tunnus 0112038-9)": the name before the ID.
                        let before = text[..text
                            .find(|c: char| c == '(' || c.is_ascii_digit())
                            .unwrap_or(0)]
                            .trim()
                            .trim_end_matches([',', '-'])
                            .trim();
                        let before = before
                            .strip_suffix("Y-tunnus")
                            .or_else(|| before.strip_suffix("y-tunnus"))
                            .unwrap_or(before)
                            .trim()
                            .trim_end_matches(',')
                            .trim();
                        if name.is_empty() && !before.is_empty() {
                            name = before.to_owned();
                            self.map(
                                format!("{prefix}.name"),
                                &name,
                                evidence("the name before the business ID"),
                                &no,
                            );
                        }
                        business_id = Some(id);
                    } else if let Some(p) =
                        phone_in(text).filter(|p| phone.is_empty() && p.len() * 2 >= text.len())
                    {
                        self.map(
                            format!("{prefix}.phone"),
                            &p,
                            evidence("a phone number"),
                            &no,
                        );
                        phone = p;
                    } else if name.is_empty() && text.split_whitespace().count() <= 8 {
                        let (first, title) = if contact {
                            person_name(text)
                        } else {
                            (trim_item(text), None)
                        };
                        if let Some(title) = title.filter(|_| role.is_empty()) {
                            self.map(
                                "contact_person.role",
                                &title,
                                evidence("a title with the name"),
                                &no,
                            );
                            role = title;
                        }
                        if first.is_empty() {
                            if role.is_empty() {
                                role = trim_item(text);
                                self.map("contact_person.role", &role, evidence("a role"), &no);
                            } else {
                                self.unmap(&no, text, &section, "a role, not a person's name");
                            }
                            continue;
                        }
                        name = first;
                        self.map(
                            format!("{prefix}.name"),
                            &name,
                            evidence("the first line"),
                            &no,
                        );
                    } else if address.postal_code.is_empty()
                        && text.chars().any(|c| c.is_ascii_digit())
                        && text.split_whitespace().count() <= 6
                    {
                        address.lines.push(text.to_owned());
                        self.map(
                            format!("{prefix}.address"),
                            text,
                            evidence("a street address before the postal code"),
                            &no,
                        );
                    } else {
                        self.unmap(
                            &no,
                            text,
                            &section,
                            "not recognised as part of the contact details",
                        );
                    }
                }
            }
        }
        if contact {
            // A data protection officer's section does not replace the register's own contact
            // person; it fills in only what no other contact section gave.
            let dpo = s.heading.is_some_and(|h| vocab::is_dpo_heading(&h.text));
            let cp = &mut self.content.contact_person;
            let set = |slot: &mut String, value: String| {
                if !value.is_empty() && (!dpo || slot.is_empty()) {
                    *slot = value;
                }
            };
            set(&mut cp.name, name);
            set(&mut cp.role, role);
            set(&mut cp.phone, phone);
            set(&mut cp.email, email);
            if address != PostalAddress::default()
                && (!dpo || cp.address == PostalAddress::default())
            {
                cp.address = address;
            }
        } else {
            self.content.controller = Controller {
                name,
                business_id,
                address,
                phone,
                email,
            };
            if !contact_name.is_empty() {
                self.content.contact_person.name = contact_name;
            }
        }
    }

    fn address(&self, value: &str, address: &mut PostalAddress) {
        for part in value.split(", ") {
            match postal_line(part) {
                Some((code, office)) => {
                    address.postal_code = code;
                    address.post_office = office;
                }
                None if part.trim().eq_ignore_ascii_case("finland")
                    || part.trim().eq_ignore_ascii_case("suomi") => {}
                None if part.trim().len() == 2
                    && part.trim().chars().all(|c| c.is_ascii_uppercase()) =>
                {
                    address.country_code = part.trim().to_owned();
                }
                None => address.lines.push(part.trim().to_owned()),
            }
        }
    }

    fn name(&mut self, s: &Section<'_>) {
        for line in &s.lines {
            if self.content.name.is_empty() {
                self.content.name = trim_item(&strip_heading_label(&line.text, Kind::Name));
                let name = self.content.name.clone();
                self.map(
                    "name",
                    &name,
                    format!("the text under \"{}\"", s.name()),
                    &[line.no],
                );
            } else {
                self.unmap(
                    &[line.no],
                    &line.text,
                    &s.name(),
                    "a register has one name; this is a second line",
                );
            }
        }
    }

    fn basis(&mut self, s: &Section<'_>) {
        let rendered: Vec<(String, LegalBasis)> = Lang::ALL
            .iter()
            .flat_map(|l| {
                let p = l.phrases();
                vocab::BASES.iter().map(move |(b, _)| {
                    (
                        format!("{} ({})", p.legal_basis(*b), p.legal_basis_article(*b))
                            .to_lowercase(),
                        *b,
                    )
                })
            })
            .collect();
        let mut explicit = Vec::new();
        let mut described = Vec::new();
        let mut description: Vec<(String, Vec<u32>)> = Vec::new();
        for para in paragraphs(&s.lines) {
            let lower = para.text.to_lowercase();
            if let Some((_, basis)) = rendered.iter().find(|(r, _)| *r == lower) {
                explicit.push((*basis, para.lines.clone(), para.text.clone()));
            } else {
                for basis in vocab::bases_in(&para.text) {
                    described.push((basis, para.lines.clone(), para.text.clone()));
                }
                description.push((para.text.clone(), para.lines.clone()));
            }
        }
        let bases = if explicit.is_empty() {
            described
        } else {
            explicit
        };
        for (basis, lines, text) in bases {
            if !self.content.legal_bases.contains(&basis) {
                self.content.legal_bases.push(basis);
                let i = self.content.legal_bases.len() - 1;
                self.map(
                    format!("legal_bases[{i}]"),
                    format!("{basis:?}"),
                    format!("\"{text}\" under \"{}\"", s.name()),
                    &lines,
                );
            }
        }
        if !description.is_empty() {
            let text = description
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let lines: Vec<u32> = description
                .iter()
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            self.map(
                "legal_basis_description",
                &text,
                format!("the text under \"{}\"", s.name()),
                &lines,
            );
            self.content.legal_basis_description = text;
        }
    }

    fn add_purpose(&mut self, purpose: String, evidence: String, lines: &[u32]) {
        let i = self.content.purposes.len();
        self.map(format!("purposes[{i}]"), &purpose, evidence, lines);
        self.content.purposes.push(purpose);
    }

    fn purposes(&mut self, s: &Section<'_>) {
        let section = s.name();
        let paras = paragraphs(&s.lines);
        // Where the purposes are itemised, a sentence beside the list states the processing in
        // general ("Personuppgifterna behandlas för att sköta medlemskapet."): the items are
        // the purposes, the sentence is not one more.
        let itemised = paras.iter().filter(|p| p.bullet).count() >= 2;
        for para in paras {
            if para.bullet && !(is_intro(&para.text) || para.text.ends_with(':')) {
                self.add_purpose(
                    capitalise(&trim_item(&para.text)),
                    format!("list item under \"{section}\""),
                    &para.lines,
                );
                continue;
            }
            for sentence in text::sentences(&para.text) {
                let lower = sentence.to_lowercase();
                if is_intro(&sentence) || sentence.trim_end().ends_with(':') {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "introduces the list that follows",
                    );
                } else if vocab::DATA_SUBJECT_SOURCE.iter().any(|p| lower.contains(p))
                    && enumeration(&sentence).is_none()
                {
                    // "Rekisteröimme vain tiedot, jotka käyttäjä itse ilmoittaa" describes a source.
                    self.add_source(
                        DataSource {
                            kind: DataSourceKind::DataSubject,
                            organisation_name: String::new(),
                            organisation_business_id: None,
                            supplies: trim_item(&sentence),
                        },
                        format!("describes data given by the data subject, under \"{section}\""),
                        &para.lines,
                    );
                } else if itemised {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "states the processing in general; the itemised list holds the purposes",
                    );
                } else if let Some(items) = enumeration(&sentence) {
                    for item in items {
                        self.add_purpose(
                            item,
                            format!("one of the purposes listed in \"{sentence}\""),
                            &para.lines,
                        );
                    }
                } else if !is_clause(&sentence) && sentence.contains(", ") {
                    // "jäsenyyden hallinnointi, jäsenmaksujen laskutus ja jäsenviestintä".
                    for item in split_items(&sentence, false) {
                        self.add_purpose(
                            capitalise(&item),
                            format!("one of the purposes listed in \"{sentence}\""),
                            &para.lines,
                        );
                    }
                } else if !is_clause(&sentence) && sentence.split_whitespace().count() <= 12 {
                    self.add_purpose(
                        capitalise(&trim_item(&sentence)),
                        format!("a purpose stated under \"{section}\""),
                        &para.lines,
                    );
                } else {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "a statement about the processing, not a purpose of it: no itemised purpose could be read from it",
                    );
                }
            }
        }
    }

    fn subjects(&mut self, s: &Section<'_>) {
        let section = s.name();
        for para in paragraphs(&s.lines) {
            if is_intro(&para.text) || para.text.ends_with(':') {
                self.unmap(
                    &para.lines,
                    &para.text,
                    &section,
                    "introduces the list that follows",
                );
                continue;
            }
            let text = strip_heading_label(&para.text, Kind::Subjects);
            let mut groups = Vec::new();
            if para.bullet && !is_clause(&text) {
                groups.push(trim_item(&text));
            } else {
                for sentence in text::sentences(&text) {
                    if let Some(items) = subject_enumeration(&sentence) {
                        groups.extend(items);
                    } else if !is_clause(&sentence) && sentence.split_whitespace().count() <= 12 {
                        groups.extend(split_items(&sentence, true));
                    } else {
                        self.unmap(
                            &para.lines,
                            &sentence,
                            &section,
                            "a statement about the data subjects, not a group of them",
                        );
                    }
                }
            }
            for group in groups {
                let group = capitalise(&group);
                let i = self.content.data_subject_groups.len();
                self.map(
                    format!("data_subject_groups[{i}]"),
                    &group,
                    format!("item under \"{section}\""),
                    &para.lines,
                );
                self.content.data_subject_groups.push(group);
            }
        }
    }

    fn data_content(&mut self, s: &Section<'_>) {
        let section = s.name();
        let markers: Vec<(&str, usize)> = Lang::ALL
            .iter()
            .flat_map(|l| {
                let p = l.phrases();
                [
                    (p.marker_identity_code, 0),
                    (p.marker_special_category, 1),
                    (p.marker_company_data, 2),
                ]
            })
            .collect();
        let marked = s
            .lines
            .iter()
            .any(|l| markers.iter().any(|(m, _)| l.text.contains(m)));
        let paras = paragraphs(&s.lines);
        // "Rekisteriin tallennetaan seuraavien henkilöryhmien tiedot:": the list after such an
        // introduction names groups of people, not kinds of data.
        let mut people_list = false;
        for (i, para) in paras.iter().enumerate() {
            let text = para.text.as_str();
            let lower = text.to_lowercase();
            let words = text.split_whitespace().count();
            if para.bullet && people_list {
                let group = capitalise(&trim_item(text));
                let n = self.content.data_subject_groups.len();
                self.map(
                    format!("data_subject_groups[{n}]"),
                    &group,
                    format!("a group of people listed under \"{section}\""),
                    &para.lines,
                );
                self.content.data_subject_groups.push(group);
                continue;
            }
            people_list = false;
            if text.ends_with(':')
                && [
                    "henkilöryhm",
                    "rekisteröityjen ryhm",
                    "grupper av registrerade",
                    "kategorier av registrerade",
                    "categories of data subjects",
                    "groups of people",
                ]
                .iter()
                .any(|w| lower.contains(w))
            {
                people_list = true;
                self.unmap(
                    &para.lines,
                    text,
                    &section,
                    "introduces the groups of people listed after it",
                );
                continue;
            }
            if text.ends_with(':') || (!para.bullet && is_intro(text)) {
                self.unmap(
                    &para.lines,
                    text,
                    &section,
                    "introduces the list that follows",
                );
                continue;
            }
            let remark = is_clause(text) && (!para.bullet || (text.ends_with('.') && words >= 6));
            if remark && vocab::RETENTION_VERBS.iter().any(|v| lower.contains(v)) {
                self.unmap(
                    &para.lines,
                    text,
                    &section,
                    "says how long data is kept: read as the retention rule, not a category",
                );
                continue;
            }
            if para.bullet && !remark {
                self.add_category(text, &para.lines, &markers, marked, &section);
                continue;
            }
            let possessive = [
                "asiakkaan",
                "käyttäjän",
                "yhteyshenkilön",
                "henkilön",
                "rekisteröidyn",
                "kunden",
                "customer",
            ];
            // "Palvelutiedot" above its items: a group label, not a category of its own.
            let is_group = !para.bullet
                && words <= 2
                && lower.ends_with("tiedot")
                && !possessive.iter().any(|p| lower.starts_with(p))
                && i + 1 < paras.len();
            if is_group {
                self.map(
                    "(data category group)",
                    text,
                    format!("a group label under \"{section}\" for the items after it"),
                    &para.lines,
                );
                continue;
            }
            for sentence in text::sentences(text) {
                if let Some(items) = content_enumeration(&sentence) {
                    for item in items {
                        self.add_category(&item, &para.lines, &markers, marked, &section);
                    }
                } else if is_clause(&sentence)
                    || (sentence.split_whitespace().count() >= 8 && text.ends_with('.'))
                {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "a remark about the data, not a category of it",
                    );
                } else {
                    self.add_category(&sentence, &para.lines, &markers, marked, &section);
                }
            }
        }
    }

    fn add_category(
        &mut self,
        text: &str,
        lines: &[u32],
        markers: &[(&str, usize)],
        marked: bool,
        section: &str,
    ) {
        let mut description = capitalise(&trim_item(text));
        let mut flags = [false; 3];
        for (marker, flag) in markers {
            if let Some(stripped) = description.strip_suffix(marker) {
                description = stripped.trim_end().to_owned();
                flags[*flag] = true;
            }
        }
        // Markers may come in any order: strip until none is left.
        while let Some((marker, flag)) = markers.iter().find(|(m, _)| description.ends_with(m)) {
            description = description
                .strip_suffix(marker)
                .unwrap_or(&description)
                .trim_end()
                .to_owned();
            flags[*flag] = true;
        }
        if !marked {
            let l = description.to_lowercase();
            flags[0] = [
                "henkilötunnus",
                "hetu",
                "personbeteckning",
                "personal identity code",
                "social security number",
            ]
            .iter()
            .any(|w| l.contains(w));
            flags[1] = [
                "terveys",
                "terveyd",
                "hälsa",
                "health",
                "uskonno",
                "religi",
                "etninen",
                "etnisk",
                "ethnic",
                "ammattiliit",
                "fackförening",
                "trade union",
                "biometri",
                "geneet",
                "genetic",
                "seksuaal",
                "sexual",
                "poliittinen",
                "political",
            ]
            .iter()
            .any(|w| l.contains(w));
            flags[2] = !flags[0]
                && [
                    "y-tunnus",
                    "business id",
                    "fo-nummer",
                    "organisationsnummer",
                    "yritystiedot",
                    "yrityksen osalta",
                    "liikevaihto",
                    "toimiala",
                    "company data",
                    "företagsuppgift",
                ]
                .iter()
                .any(|w| l.contains(w));
        }
        let mut key = slug(&description);
        let base = key.clone();
        let mut n = 2;
        while self.content.data_categories.iter().any(|c| c.key == key) {
            key = format!("{base}_{n}");
            n += 1;
        }
        let i = self.content.data_categories.len();
        self.map(
            format!("data_categories[{i}]"),
            &description,
            format!("item under \"{section}\""),
            lines,
        );
        self.content.data_categories.push(DataCategory {
            key,
            description,
            national_identity_code: flags[0],
            special_category: flags[1],
            company_data: flags[2],
        });
    }

    fn add_source(&mut self, source: DataSource, evidence: String, lines: &[u32]) {
        if source.kind == DataSourceKind::DataSubject
            && let Some(existing) = self
                .content
                .sources
                .iter_mut()
                .find(|s| s.kind == DataSourceKind::DataSubject)
        {
            if !source.supplies.is_empty() {
                if !existing.supplies.is_empty() {
                    existing.supplies.push_str("; ");
                }
                existing.supplies.push_str(&source.supplies);
            }
            let value = existing.supplies.clone();
            let i = self
                .content
                .sources
                .iter()
                .position(|s| s.kind == DataSourceKind::DataSubject)
                .unwrap_or(0);
            self.map(format!("sources[{i}]"), value, evidence, lines);
            return;
        }
        if source.kind == DataSourceKind::External
            && self
                .content
                .sources
                .iter()
                .any(|s| s.organisation_name == source.organisation_name)
        {
            self.map(
                "(source mentioned again)",
                &source.organisation_name,
                evidence,
                lines,
            );
            return;
        }
        let i = self.content.sources.len();
        let value = match source.kind {
            DataSourceKind::DataSubject => format!("data subject: {}", source.supplies),
            DataSourceKind::External => {
                format!("{}: {}", source.organisation_name, source.supplies)
            }
        };
        self.map(format!("sources[{i}]"), value, evidence, lines);
        self.content.sources.push(source);
    }

    fn sources(&mut self, s: &Section<'_>) {
        let section = s.name();
        let itself: Vec<String> = Lang::ALL
            .iter()
            .map(|l| l.phrases().data_subject_itself.to_lowercase())
            .collect();
        let id_labels: Vec<String> = Lang::ALL
            .iter()
            .map(|l| format!(" ({} ", l.phrases().label_business_id))
            .collect();
        for para in paragraphs(&s.lines) {
            let lower = para.text.to_lowercase();
            // "Rekisteröity itse: ..." as a rendered notice writes it.
            if let Some(prefix) = itself.iter().find(|p| lower.starts_with(p.as_str())) {
                let rest = para.text.get(prefix.len()..).unwrap_or_default();
                let supplies = trim_item(rest.trim_start_matches(':'));
                self.add_source(
                    DataSource {
                        kind: DataSourceKind::DataSubject,
                        organisation_name: String::new(),
                        organisation_business_id: None,
                        supplies,
                    },
                    format!("\"{prefix}\" under \"{section}\""),
                    &para.lines,
                );
                continue;
            }
            // "Organisation (Y-tunnus 1234567-8): what it supplies" or "Fonecta Oy: päättäjätiedot".
            let (head, supplies) = match para.text.split_once(": ") {
                Some((head, rest)) if head.split_whitespace().count() <= 12 => {
                    (head.to_owned(), trim_item(rest))
                }
                _ => (para.text.trim_end_matches(':').to_owned(), String::new()),
            };
            let (organisation, business_id) = match id_labels
                .iter()
                .find_map(|l| head.find(l.as_str()).map(|p| (p, l.len())))
            {
                Some((pos, len)) => {
                    let id = head[pos + len..].trim_end_matches(')').trim();
                    (head[..pos].trim().to_owned(), BusinessId::parse(id).ok())
                }
                None => (head.clone(), None),
            };
            let structured = para.text.contains(": ") || para.bullet;
            let known = vocab::known_sources_in(&organisation);
            // Under a sources heading, "Name: what it supplies" names an organisation when the
            // name is a capitalised noun phrase rather than a statement.
            let looks_like_org = business_id.is_some()
                || !known.is_empty()
                || vocab::is_organisation_name(&organisation)
                || (para.text.contains(": ")
                    && organisation.chars().next().is_some_and(char::is_uppercase)
                    && organisation.split_whitespace().count() <= 8
                    && !is_clause(&organisation)
                    && vocab::heading_kind(&organisation).is_none());
            if structured
                && looks_like_org
                && organisation.split_whitespace().count() <= 12
                && !vocab::DATA_SUBJECT_SOURCE.iter().any(|p| lower.contains(p))
            {
                let evidence = match known.first() {
                    Some(k) => format!("a known source ({}) under \"{section}\"", k.name),
                    None => format!("an organisation named under \"{section}\""),
                };
                self.add_source(
                    DataSource {
                        kind: DataSourceKind::External,
                        organisation_name: trim_item(&organisation),
                        organisation_business_id: business_id,
                        supplies,
                    },
                    evidence,
                    &para.lines,
                );
                continue;
            }
            for sentence in text::sentences(&para.text) {
                let l = sentence.to_lowercase();
                if [
                    "ei hanki",
                    "ei kerää",
                    "ei kerätä",
                    "does not obtain",
                    "does not collect",
                    "inhämtar inte",
                ]
                .iter()
                .any(|n| l.contains(n))
                {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "says where data does not come from",
                    );
                } else if vocab::NEGATIVE_DISCLOSURE.iter().any(|n| l.contains(n)) {
                    self.map(
                        "disclosures",
                        "(no regular disclosures)",
                        format!("\"{sentence}\" under \"{section}\""),
                        &para.lines,
                    );
                } else if vocab::DATA_SUBJECT_SOURCE.iter().any(|p| l.contains(p)) {
                    self.add_source(
                        DataSource {
                            kind: DataSourceKind::DataSubject,
                            organisation_name: String::new(),
                            organisation_business_id: None,
                            supplies: trim_item(&sentence),
                        },
                        format!("describes data given by the data subject, under \"{section}\""),
                        &para.lines,
                    );
                } else if is_intro(&sentence) || sentence.ends_with(':') {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "introduces the list that follows",
                    );
                } else if let sources @ [_, ..] = &prose_sources(&sentence)[..] {
                    for (organisation, supplies) in sources {
                        self.add_source(
                            DataSource {
                                kind: DataSourceKind::External,
                                organisation_name: organisation.clone(),
                                organisation_business_id: None,
                                supplies: supplies.clone(),
                            },
                            format!("a source named in \"{sentence}\""),
                            &para.lines,
                        );
                    }
                } else {
                    self.unmap(
                        &para.lines,
                        &sentence,
                        &section,
                        "names neither the data subject nor an external organisation as a source",
                    );
                }
            }
        }
    }

    fn disclosures(&mut self, s: &Section<'_>) {
        let section = s.name();
        let basis_labels: Vec<(String, LegalBasis)> = Lang::ALL
            .iter()
            .flat_map(|l| {
                let p = l.phrases();
                vocab::BASES.iter().map(move |(b, _)| {
                    (
                        format!(" ({}: {})", p.disclosure_basis, p.legal_basis(*b)),
                        *b,
                    )
                })
            })
            .collect();
        for para in paragraphs(&s.lines) {
            let units = if para.bullet {
                vec![para.text.clone()]
            } else {
                text::sentences(&para.text)
            };
            for unit in units {
                self.disclosure_unit(
                    &unit,
                    &para,
                    s.kind == Kind::Transfers,
                    &section,
                    &basis_labels,
                );
            }
        }
    }

    fn disclosure_unit(
        &mut self,
        unit: &str,
        para: &Para,
        in_transfers: bool,
        section: &str,
        basis_labels: &[(String, LegalBasis)],
    ) {
        let lower = unit.to_lowercase();
        let bullet = para.bullet;
        let lines = &para.lines;
        let phrases_any = |f: fn(&crate::notice::Phrases) -> &'static str| {
            Lang::ALL
                .iter()
                .any(|l| f(l.phrases()).eq_ignore_ascii_case(unit))
        };
        if phrases_any(|p| p.transfers_some) {
            self.content.transfers_outside_eea = Some(TransfersOutsideEea::Some);
            self.map(
                "transfers_outside_eea",
                "SOME",
                "the statement that data is transferred outside the EU/EEA",
                lines,
            );
            return;
        }
        // "US: <safeguard>. <description>" as a rendered notice lists transfers.
        if let Some((cc, rest)) = unit
            .split_once(": ")
            .filter(|(cc, _)| cc.len() == 2 && cc.chars().all(|c| c.is_ascii_uppercase()))
        {
            let safeguard = Lang::ALL.iter().flat_map(|l| {
                let p = l.phrases();
                [
                    TransferSafeguard::AdequacyDecision,
                    TransferSafeguard::StandardContractualClauses,
                    TransferSafeguard::ExplicitConsent,
                    TransferSafeguard::None,
                ]
                .into_iter()
                .map(move |s| (p.safeguard(s), s))
            });
            if let Some((phrase, safeguard)) = safeguard
                .filter(|(p, _)| rest.starts_with(p))
                .max_by_key(|(p, _)| p.len())
            {
                let description = rest[phrase.len()..]
                    .trim_start_matches('.')
                    .trim()
                    .to_owned();
                self.content.transfers_outside_eea = Some(TransfersOutsideEea::Some);
                let i = self.content.transfers.len();
                self.map(
                    format!("transfers[{i}]"),
                    unit,
                    format!("a listed transfer under \"{section}\""),
                    lines,
                );
                self.content.transfers.push(ThirdCountryTransfer {
                    country_code: cc.to_owned(),
                    safeguard,
                    description,
                });
                return;
            }
        }
        let countries = vocab::countries_with_safeguards(unit);
        // "The transfer is based on ... adequacy decision." after the sentence naming the country.
        if let (Some(safeguard), true) = (vocab::safeguard_in(unit), countries.is_empty())
            && let Some(last) = self
                .content
                .transfers
                .last_mut()
                .filter(|t| t.safeguard == TransferSafeguard::None)
        {
            last.safeguard = safeguard;
            last.description = format!("{}. {}", last.description, trim_item(unit));
            let i = self.content.transfers.len() - 1;
            self.map(
                format!("transfers[{i}].safeguard"),
                format!("{safeguard:?}"),
                format!("\"{unit}\""),
                lines,
            );
            return;
        }
        let words = format!(" {} ", lower.replace(['.', ',', ';', ':'], " "));
        let eu = [
            "eu:n",
            "eta:n",
            "euroopan unionin",
            "euroopan talousalueen",
            "european union",
            "european economic area",
            "eu/eta",
            "eu/eea",
            "eu/ees",
            "eu:s",
        ]
        .iter()
        .any(|w| lower.contains(w))
            || [" eu ", " eta ", " ees ", " eea "]
                .iter()
                .any(|w| words.contains(w));
        let outside = (eu
            && ["ulkopuol", "utanför", "outside", "beyond"]
                .iter()
                .any(|w| lower.contains(w)))
            || [
                "third countr",
                "kolmansiin maihin",
                "kolmanteen maahan",
                "tredje land",
            ]
            .iter()
            .any(|w| lower.contains(w));
        // Only a sentence that says data goes (or is kept) somewhere is about a transfer.
        let moves = [
            "siirr",
            "siirt",
            "luovut",
            "käsittel",
            "tallenn",
            "sijaits",
            "palvelim",
            "överför",
            "lämnas",
            "lagras",
            "behandla",
            "server",
            "transfer",
            "stor",
            "process",
            "operated",
            "hosted",
            "disclos",
        ]
        .iter()
        .any(|w| lower.contains(w));
        let negative = vocab::NEGATIVE_DISCLOSURE.iter().any(|n| lower.contains(n))
            || [
                "ei käsitellä",
                "ei siirretä",
                "inte ut",
                "inte överförs",
                "not processed",
            ]
            .iter()
            .any(|n| lower.contains(n));
        let exception = vocab::EXCEPTION.iter().any(|e| lower.contains(e));
        if !countries.is_empty() && !negative && moves && (outside || in_transfers) {
            self.content.transfers_outside_eea = Some(TransfersOutsideEea::Some);
            for (cc, safeguard) in countries {
                if let Some(i) = self
                    .content
                    .transfers
                    .iter()
                    .position(|t| t.country_code == cc)
                {
                    // The country again, with the safeguard ("Kanadassa on riittävä taso").
                    let t = &mut self.content.transfers[i];
                    if let (TransferSafeguard::None, Some(s)) = (t.safeguard, safeguard) {
                        t.safeguard = s;
                        self.map(
                            format!("transfers[{i}].safeguard"),
                            format!("{s:?}"),
                            format!("\"{unit}\""),
                            lines,
                        );
                    } else {
                        self.map(
                            "(transfer mentioned again)",
                            cc,
                            format!("\"{unit}\""),
                            lines,
                        );
                    }
                    continue;
                }
                let safeguard = safeguard.unwrap_or(TransferSafeguard::None);
                let i = self.content.transfers.len();
                self.map(
                    format!("transfers[{i}]"),
                    format!("{cc}: {safeguard:?}"),
                    format!("\"{unit}\""),
                    lines,
                );
                self.content.transfers.push(ThirdCountryTransfer {
                    country_code: cc.to_owned(),
                    safeguard,
                    description: trim_item(unit),
                });
            }
            return;
        }
        // Under a heading about transfers, "ei luovuta tietoja ulkopuolisille" says none go.
        let about_marketing = [
            "markkinoin",
            "kaupallis",
            "marknadsför",
            "marketing",
            "commercial",
        ]
        .iter()
        .any(|w| lower.contains(w));
        if outside || (in_transfers && negative && !exception && moves && !about_marketing) {
            if negative && !exception {
                if self.content.transfers_outside_eea.is_none() {
                    self.content.transfers_outside_eea = Some(TransfersOutsideEea::None);
                }
                self.map(
                    "transfers_outside_eea",
                    "NONE",
                    format!("\"{unit}\""),
                    lines,
                );
                return;
            }
            if !negative && !exception && moves {
                // "Tietoja voidaan luovuttaa EU:n tai ETA:n ulkopuolelle, jos ...": transfers
                // may happen; which countries the document does not say.
                self.content.transfers_outside_eea = Some(TransfersOutsideEea::Some);
                self.map(
                    "transfers_outside_eea",
                    "SOME",
                    format!("\"{unit}\" (no country named: add them to the draft)"),
                    lines,
                );
                return;
            }
            self.unmap(
                lines,
                unit,
                section,
                "speaks of the EU/EEA but neither says plainly that data stays inside nor names a country it goes to",
            );
            return;
        }
        if negative {
            self.map(
                "disclosures",
                "(no regular disclosures)",
                format!("\"{unit}\""),
                lines,
            );
            return;
        }
        // "Vastaanottaja: Perintätoimisto Saatava Oy" and "Luovutettavat tiedot: nimi, osoite".
        if let Some((head, rest)) = unit.split_once(": ") {
            let head = head.trim().to_lowercase();
            if vocab::RECIPIENT_LABELS.contains(&head.as_str()) {
                let i = self.content.disclosures.len();
                self.map(
                    format!("disclosures[{i}]"),
                    unit,
                    format!("the recipient's label under \"{section}\""),
                    lines,
                );
                self.content.disclosures.push(Disclosure {
                    recipient: trim_item(rest),
                    purpose: String::new(),
                    legal_basis: None,
                });
                return;
            }
            if vocab::DISCLOSED_DATA_LABELS.contains(&head.as_str())
                && let Some(last) = self.content.disclosures.last_mut()
            {
                if !last.purpose.is_empty() {
                    last.purpose.push_str("; ");
                }
                last.purpose.push_str(&trim_item(rest));
                let i = self.content.disclosures.len() - 1;
                self.map(
                    format!("disclosures[{i}].purpose"),
                    rest,
                    format!("what is disclosed, under \"{section}\""),
                    lines,
                );
                return;
            }
        }
        // "Viranomaiset: purpose (oikeusperuste: lakisääteinen velvoite)".
        let structured = unit.split_once(": ").filter(|(recipient, rest)| {
            !rest.is_empty() && recipient.split_whitespace().count() <= if bullet { 10 } else { 4 }
        });
        if let Some((recipient, rest)) = structured {
            let mut purpose = trim_item(rest);
            let mut legal_basis = None;
            if let Some((stripped, basis)) = basis_labels.iter().find_map(|(label, basis)| {
                purpose
                    .strip_suffix(label.as_str())
                    .map(|p| (p.trim().to_owned(), *basis))
            }) {
                purpose = stripped;
                legal_basis = Some(basis);
            }
            let i = self.content.disclosures.len();
            self.map(
                format!("disclosures[{i}]"),
                unit,
                format!("a recipient named under \"{section}\""),
                lines,
            );
            self.content.disclosures.push(Disclosure {
                recipient: trim_item(recipient),
                purpose,
                legal_basis,
            });
            return;
        }
        if bullet {
            let i = self.content.disclosures.len();
            self.map(
                format!("disclosures[{i}]"),
                unit,
                format!("a list item under \"{section}\""),
                lines,
            );
            self.content.disclosures.push(Disclosure {
                recipient: trim_item(unit),
                purpose: String::new(),
                legal_basis: None,
            });
            return;
        }
        // Recipients named in a sentence that says data is disclosed to them: organisations by
        // their company form ("Posti Oy:lle", "Paytrail Plc") or known public bodies. A sentence
        // that names none ("within the limits of the law") gives no recipient: one is not
        // invented from it.
        let discloses = [
            "luovute",
            "luovuta",
            "välitetään",
            "vastaanottaja",
            "käyttöönsä",
            "lämnas",
            "lämnar",
            "utlämna",
            "mottagare",
            "disclose",
            "share",
            "recipient",
            "passed to",
        ]
        .iter()
        .any(|w| lower.contains(w));
        let recipients = if discloses {
            vocab::organisations_in(unit)
        } else {
            Vec::new()
        };
        if !recipients.is_empty() {
            for recipient in recipients {
                if self
                    .content
                    .disclosures
                    .iter()
                    .any(|d| d.recipient == recipient)
                {
                    continue;
                }
                let i = self.content.disclosures.len();
                self.map(
                    format!("disclosures[{i}]"),
                    &recipient,
                    format!("an organisation named as receiving data in \"{unit}\""),
                    lines,
                );
                self.content.disclosures.push(Disclosure {
                    recipient,
                    purpose: trim_item(unit),
                    legal_basis: None,
                });
            }
            return;
        }
        if vocab::AUTHORITIES.iter().any(|a| lower.contains(a)) {
            self.unmap(
                lines,
                unit,
                section,
                "discloses within the limits of the law but names no recipient: add the recipients to the draft",
            );
            return;
        }
        self.unmap(lines, unit, section, "names no recipient to record");
    }

    /// Free texts: security principles and the rights. Labelled lines of a rendered notice pick
    /// their field; an unlabelled line continues the previous label's field or goes to `default`.
    fn texts(&mut self, s: &Section<'_>, default: Target) {
        let section = s.name();
        let labels: Vec<(String, Target)> = Lang::ALL
            .iter()
            .flat_map(|l| {
                let p = l.phrases();
                [
                    (p.label_access, Target::Access),
                    (p.label_rectification, Target::Rectification),
                    (p.label_marketing, Target::Marketing),
                    (p.label_manual, Target::Manual),
                    (p.label_electronic, Target::Electronic),
                ]
                .map(|(l, t)| (format!("{l}: "), t))
            })
            .collect();
        let mut current: Option<Target> = None;
        for para in paragraphs(&s.lines) {
            let text = para.text.as_str();
            let lower = text.to_lowercase();
            if is_standard(text) {
                self.map(
                    "(standard text)",
                    text,
                    "fixed text of a rendered notice",
                    &para.lines,
                );
                current = None;
                continue;
            }
            if [
                "oikeus muutoksiin",
                "muutoksiin pidätetään",
                "rätt till ändringar",
                "we may update this",
            ]
            .iter()
            .any(|r| lower.contains(r))
            {
                self.unmap(
                    &para.lines,
                    text,
                    &section,
                    "a remark about the document itself",
                );
                continue;
            }
            if [
                "valitus",
                "valittaa",
                "klagomål",
                "complaint",
                "supervisory authority",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                self.unmap(
                    &para.lines,
                    text,
                    &section,
                    "the right to complain: the notice states it itself",
                );
                current = None;
                continue;
            }
            let (target, body) = match labels.iter().find(|(l, _)| text.starts_with(l.as_str())) {
                Some((label, target)) => {
                    current = Some(*target);
                    (*target, &text[label.len()..])
                }
                None => {
                    let target = current.unwrap_or_else(|| match default {
                        Target::Electronic if vocab::MANUAL.iter().any(|m| lower.contains(m)) => {
                            Target::Manual
                        }
                        Target::Access
                            if ["korja", "oikais", "rättel", "rectif", "correct"]
                                .iter()
                                .any(|w| lower.contains(w)) =>
                        {
                            Target::Rectification
                        }
                        Target::Access
                            if ["markkinoin", "marknadsför", "marketing"]
                                .iter()
                                .any(|w| lower.contains(w)) =>
                        {
                            Target::Marketing
                        }
                        other => other,
                    });
                    (target, text)
                }
            };
            let (field, slot) = match target {
                Target::Access => ("rights.access", &mut self.content.rights.access),
                Target::Rectification => (
                    "rights.rectification",
                    &mut self.content.rights.rectification,
                ),
                Target::Marketing => (
                    "rights.marketing_prohibition",
                    &mut self.content.rights.marketing_prohibition,
                ),
                Target::Manual => (
                    "security.manual_material",
                    &mut self.content.security.manual_material,
                ),
                Target::Electronic => (
                    "security.electronic_systems",
                    &mut self.content.security.electronic_systems,
                ),
            };
            if !slot.is_empty() {
                slot.push('\n');
            }
            slot.push_str(body.trim());
            self.map(
                field,
                body.trim(),
                format!("text under \"{section}\""),
                &para.lines,
            );
        }
    }

    /// A retention rule from one sentence (or a whole rendered paragraph).
    pub(super) fn parse_retention(text: &str) -> Option<RetentionRule> {
        // "vähintään asiakassuhteen ajan, mutta enintään kolme vuotta sen päättymisestä": the
        // maximum is the rule that binds.
        let lower = text.to_lowercase();
        if let Some(pos) = [
            "enintään",
            "korkeintaan",
            "högst",
            "som längst",
            "at most",
            "no longer than",
            "maximum of",
            "up to",
        ]
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
            && pos > 0
            && let Some(rule) = lower.get(pos..).and_then(Self::parse_retention_rule)
        {
            return Some(rule);
        }
        Self::parse_retention_rule(text)
    }

    fn parse_retention_rule(text: &str) -> Option<RetentionRule> {
        let period = vocab::period_in(text);
        let law = vocab::law_in(text);
        let lower = text.to_lowercase();
        let trigger = match vocab::retention_trigger_in(text) {
            // "for the duration of the membership and for 12 months after it ends": the end.
            Some(RetentionTrigger::RelationshipDuration)
                if period.is_some() && vocab::names_relationship_end(text) =>
            {
                Some(RetentionTrigger::RelationshipEnd)
            }
            other => other,
        };
        let (trigger, law) = match (law, trigger) {
            (Some(law), _) => (RetentionTrigger::Law, law),
            (None, Some(trigger)) => (trigger, String::new()),
            (None, None)
                if period.is_some()
                    && [
                        "asiakassuh",
                        "asiakkuu",
                        "kundförhåll",
                        "customer relationship",
                    ]
                    .iter()
                    .any(|w| lower.contains(w)) =>
            {
                (RetentionTrigger::RelationshipEnd, String::new())
            }
            _ => return None,
        };
        let needs_period = matches!(
            trigger,
            RetentionTrigger::Collection | RetentionTrigger::RelationshipEnd
        );
        if needs_period && period.is_none() {
            return None;
        }
        let (period, unit) = match (trigger, period) {
            (RetentionTrigger::RelationshipDuration, _) | (_, None) => (0, None),
            (_, Some((n, unit))) => (n, Some(unit)),
        };
        Some(RetentionRule {
            trigger,
            period,
            unit,
            law,
            description: String::new(),
        })
    }

    fn is_canonical_retention(rule: &RetentionRule, text: &str) -> bool {
        Lang::ALL
            .iter()
            .any(|l| l.phrases().retention(rule) == text)
    }

    fn retention(&mut self, s: &Section<'_>) {
        let section = s.name();
        let mut rule: Option<RetentionRule> = None;
        let mut description: Vec<String> = Vec::new();
        let mut pending: Vec<(String, Vec<u32>)> = Vec::new();
        for para in paragraphs(&s.lines) {
            // A rendered rule is one paragraph, possibly two sentences.
            if rule.is_none()
                && let Some(r) = Self::parse_retention(&para.text)
                    .filter(|r| Self::is_canonical_retention(r, &para.text))
            {
                self.map(
                    "retention",
                    &para.text,
                    format!("the retention rule under \"{section}\""),
                    &para.lines,
                );
                rule = Some(r);
                continue;
            }
            let mut kept = Vec::new();
            for sentence in text::sentences(&para.text) {
                if rule.is_none()
                    && let Some(r) = Self::parse_retention(&sentence)
                {
                    self.map(
                        "retention",
                        &sentence,
                        format!("a retention period and its starting point in \"{sentence}\""),
                        &para.lines,
                    );
                    rule = Some(r);
                }
                kept.push(sentence);
            }
            description.push(kept.join(" "));
            pending.push((para.text.clone(), para.lines.clone()));
        }
        match rule {
            Some(mut rule) => {
                rule.description = description.join("\n");
                if !rule.description.is_empty() {
                    let lines: Vec<u32> = pending
                        .iter()
                        .flat_map(|(_, l)| l.iter().copied())
                        .collect();
                    self.map(
                        "retention.description",
                        &rule.description,
                        format!("the text under \"{section}\""),
                        &lines,
                    );
                }
                self.content.retention = Some(rule);
            }
            None => {
                for (text, lines) in pending {
                    self.unmap(
                        &lines,
                        &text,
                        &section,
                        "no retention period and starting point could be read from it",
                    );
                }
            }
        }
    }

    /// Retention is often stated outside a section of its own ("Tiedot poistetaan kolmen vuoden
    /// kuluttua asiakassuhteen päättymisestä" under the purposes).
    pub(super) fn retention_elsewhere(&mut self, sections: &[Section<'_>]) {
        if self.content.retention.is_some() {
            return;
        }
        for section in sections.iter().filter(|s| s.kind != Kind::Retention) {
            for para in paragraphs(&section.lines) {
                for sentence in text::sentences(&para.text) {
                    let lower = sentence.to_lowercase();
                    if !vocab::RETENTION_VERBS.iter().any(|v| lower.contains(v)) {
                        continue;
                    }
                    if let Some(mut rule) = Self::parse_retention(&sentence) {
                        rule.description = trim_item(&sentence) + ".";
                        self.map(
                            "retention",
                            &sentence,
                            format!("a retention period stated under \"{}\"", section.name()),
                            &para.lines,
                        );
                        self.content.retention = Some(rule);
                        return;
                    }
                }
            }
        }
    }

    pub(super) fn finish(mut self, lines: &[Line], sections: &[Section<'_>]) -> Imported {
        // The register name repeated in a rendered notice's title block.
        let name = self.content.name.clone();
        if !name.is_empty() {
            let repeats: Vec<u32> = self
                .report
                .unmapped
                .iter()
                .filter(|u| u.section == "(before the first heading)" && trim_item(&u.text) == name)
                .map(|u| u.line)
                .collect();
            self.report.unmapped.retain(|u| !repeats.contains(&u.line));
            for line in repeats {
                self.map(
                    "(register name repeated)",
                    &name,
                    "the register name in the title",
                    &[line],
                );
            }
        }
        // Nothing is silently dropped: a line neither used nor reported is reported now.
        let reported: BTreeSet<u32> = self.report.unmapped.iter().map(|u| u.line).collect();
        let section_of = |no: u32| {
            sections
                .iter()
                .rev()
                .find(|s| s.heading.is_none_or(|h| h.no <= no))
                .map(Section::name)
                .unwrap_or_default()
        };
        let missing: Vec<&Line> = lines
            .iter()
            .filter(|l| !self.used.contains(&l.no) && !reported.contains(&l.no))
            .collect();
        for line in missing {
            let section = section_of(line.no);
            self.unmap(&[line.no], &line.text, &section, "not recognised");
        }
        self.report.unmapped.sort_by_key(|u| u.line);
        self.sanitise();
        Imported {
            content: self.content,
            report: self.report,
        }
    }

    /// Keeps the draft within what the catalogue accepts: every value the catalogue's own
    /// validation refuses is taken out of the draft and reported with the reason, rather than
    /// failing the whole import.
    fn sanitise(&mut self) {
        for _ in 0..8 {
            self.content.normalise();
            let violations = self.content.violations();
            if violations.is_empty() {
                return;
            }
            let mut value = serde_json::to_value(&self.content).expect("content serialises");
            // Later list items first, so that removing one does not shift the others.
            let mut paths: Vec<(String, String)> = violations
                .iter()
                .map(|v| (removal_path(&v.field), v.description.clone()))
                .collect();
            paths.sort_by(|a, b| b.0.cmp(&a.0));
            paths.dedup_by(|a, b| a.0 == b.0);
            for (path, reason) in paths {
                let lines: Vec<u32> = self
                    .report
                    .mapped
                    .iter()
                    .filter(|m| path.starts_with(m.field.split('[').next().unwrap_or(&m.field)))
                    .flat_map(|m| m.lines.iter().copied())
                    .collect();
                let removed = clear_path(&mut value, &path);
                let text = removed.map(|v| v.to_string()).unwrap_or_default();
                self.unmap(
                    &lines,
                    &text,
                    "(validation)",
                    &format!("{path}: {reason}; left out of the draft"),
                );
            }
            match serde_json::from_value(value) {
                Ok(content) => self.content = content,
                Err(_) => self.content = RegisterContent::default(),
            }
        }
        // Unreachable in practice: every round removes at least one refused value.
        self.content = RegisterContent::default();
    }
}

/// "Rekisterin nimi: X", "Register name: X", "Rekisterin nimi on X": the value after a label
/// that repeats the section's own heading.
fn strip_heading_label(text: &str, kind: Kind) -> String {
    if let Some((head, rest)) = text.split_once(": ")
        && head.split_whitespace().count() <= 5
        && vocab::heading_kind(head) == Some(kind)
    {
        return rest.trim().to_owned();
    }
    let lower = text.to_lowercase();
    for verb in [" on ", " är ", " is ", " heter "] {
        if let Some(pos) = lower.find(verb)
            && pos > 0
            && lower[..pos].split_whitespace().count() <= 5
            && vocab::heading_kind(&text[..pos]) == Some(kind)
            && let Some(rest) = text.get(pos + verb.len()..)
        {
            return rest.trim().to_owned();
        }
    }
    text.to_owned()
}

/// A person's name from "Tommi Laaksonen, gym manager" or "Opetuspäällikkö Mikko Salmela", with
/// the title; an empty name when the text names a role only ("Paloniemen kunnan
/// tietosuojavastaava").
fn person_name(text: &str) -> (String, Option<String>) {
    let text = trim_item(text);
    let (head, tail) = match text.split_once([',', '(']) {
        Some((head, tail)) => (
            head.trim().to_owned(),
            Some(trim_item(tail.trim_end_matches(')'))).filter(|t| !t.is_empty()),
        ),
        None => (text.clone(), None),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    // A leading title: "Opetuspäällikkö Mikko Salmela", "Chef för småbarnspedagogik Helena Sjöberg".
    let title_end = words
        .iter()
        .rposition(|w| !capitalised(w) || vocab::is_title_word(w))
        .map_or(0, |i| i + 1);
    let name_words = &words[title_end..];
    let title = (title_end > 0).then(|| words[..title_end].join(" "));
    if (2..=4).contains(&name_words.len()) && name_words.iter().all(|w| capitalised(w)) {
        return (name_words.join(" "), title.or(tail));
    }
    // One word, or an organisation: as written when nothing in it reads as a role.
    if title_end == 0 && !words.is_empty() {
        return (head, tail);
    }
    (String::new(), Some(text))
}

/// The external sources a sentence names, each with what it supplies when the sentence says so:
/// "we may obtain updated address information from Posti Ltd and credit information from
/// Suomen Asiakastieto Oy", "Ajokorttilupaa koskevat tiedot toimittaa Trafi", "Muita lähteitä ovat
/// X (mitä), Y (mitä)", "...päivittää myös väestötietojärjestelmästä, kaupparekisteristä ...".
fn prose_sources(sentence: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let lower = sentence.to_lowercase();
    // "Muita tietolähteitä ovat X (mitä), Y (mitä) sekä Z (mitä)."
    if let Some(pos) = [" ovat ", " är ", " are "]
        .iter()
        .find_map(|v| lower.find(v).map(|p| p + v.len()))
        && let Some(rest) = sentence.get(pos..)
        && rest.contains('(')
    {
        for item in split_items(rest, true) {
            if let Some((name, supplies)) = item.split_once('(')
                && name.trim().chars().next().is_some_and(char::is_uppercase)
            {
                found.push((trim_item(name), trim_item(supplies.trim_end_matches(')'))));
            }
        }
        if !found.is_empty() {
            return found;
        }
    }
    // Clauses: at ", ", ": ", "; " and at "ja"/"och"/"and" before a capitalised word.
    let mut clauses: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let words: Vec<&str> = sentence.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let next_capitalised = words
            .get(i + 1)
            .is_some_and(|w| w.chars().next().is_some_and(char::is_uppercase));
        if ["ja", "och", "and"].contains(word) && next_capitalised && !current.is_empty() {
            clauses.push(current.join(" "));
            current.clear();
            continue;
        }
        current.push(word);
        if word.ends_with([',', ':', ';']) {
            clauses.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        clauses.push(current.join(" "));
    }
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    // A name: the capitalised run of words (joined by "and"/"of"/"och") from the start.
    let name_at = |words: &[&str]| -> String {
        // Agencies whose names run on in lower case.
        let rest = words.join(" ");
        if let Some(agency) = vocab::AGENCIES.iter().find(|a| rest.starts_with(*a)) {
            return (*agency).to_owned();
        }
        let mut name: Vec<&str> = Vec::new();
        let mut i = 0;
        // "rekryteringsbyrån Personalpartner Kusten Ab": a describing word before the name.
        while i < words.len().min(2) && !capitalised(words[i]) {
            i += 1;
        }
        while i < words.len() {
            let w = words[i];
            let joins = ["and", "of", "och", "för"].contains(&w)
                && !name.is_empty()
                && words.get(i + 1).is_some_and(|n| capitalised(n));
            if !(capitalised(w) || joins) {
                break;
            }
            name.push(w);
            if w.ends_with([',', '.', ';', ':']) {
                break;
            }
            i += 1;
        }
        trim_item(&name.join(" "))
    };
    const VERBS: &[&str] = &[
        "obtain",
        "receive",
        "get",
        "collect",
        "få",
        "fås",
        "hämtar",
        "hämtas",
        "uppdateras",
        "uppdaterar",
        "erhåller",
        "saadaan",
        "saamme",
        "haemme",
        "päivitetään",
    ];
    const AUX: &[&str] = &["kan", "may", "can", "voidaan", "vi", "we"];
    for clause in clauses {
        let cw: Vec<&str> = clause.split_whitespace().collect();
        let lw: Vec<String> = cw.iter().map(|w| w.to_lowercase()).collect();
        // "<supplies> from <Org>", "<supplies> fås från <Org>", "... via <Org>", as often as
        // the clause says it ("address information from Posti Ltd and credit information from
        // Suomen Asiakastieto Oy").
        let anchors: Vec<usize> = lw
            .iter()
            .enumerate()
            .filter(|(_, w)| ["from", "från", "via"].contains(&w.as_str()))
            .map(|(i, _)| i)
            .collect();
        let mut previous_end = 0;
        for a in anchors.iter().copied() {
            let org = name_at(&cw[a + 1..]);
            let org_words = org.split_whitespace().count();
            if org.is_empty() || ["you", "dig", "the"].contains(&org.to_lowercase().as_str()) {
                continue;
            }
            let skipped = cw[a + 1..].iter().take_while(|w| !capitalised(w)).count();
            let before = &cw[previous_end.min(a)..a];
            previous_end = a + 1 + skipped + org_words;
            let supplies = match before
                .iter()
                .rposition(|w| VERBS.contains(&w.to_lowercase().as_str()))
            {
                // "Adressuppgifter kan uppdateras från": what comes before the verb.
                Some(v) if v + 1 == before.len() => before[..v]
                    .iter()
                    .take_while(|w| !AUX.contains(&w.to_lowercase().as_str()))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(v) => before[v + 1..].join(" "),
                None => before.join(" "),
            };
            let supplies = trim_item(
                supplies
                    .trim_start_matches("and ")
                    .trim_start_matches("och "),
            );
            let supplies = if supplies.split_whitespace().count() <= 6 {
                supplies
            } else {
                String::new()
            };
            found.push((org, supplies));
        }
        if !anchors.is_empty() {
            continue;
        }
        // "<Org> toimittaa <supplies>" or "<supplies> toimittaa <Org>".
        if let Some(v) = lw.iter().position(|w| {
            [
                "toimittaa",
                "toimittavat",
                "levererar",
                "supplies",
                "provides",
            ]
            .contains(&w.as_str())
        }) {
            let (left, right) = (cw[..v].join(" "), cw[v + 1..].join(" "));
            let org_left = !vocab::organisations_in(&left).is_empty()
                || (capitalised(&left) && cw[..v].iter().all(|w| capitalised(w)));
            let org_right = cw[v + 1..].last().is_some_and(|w| capitalised(w));
            match (org_left, org_right) {
                (true, _) => found.push((trim_item(&left), trim_item(&right))),
                (false, true) => found.push((trim_item(&right), trim_item(&left))),
                _ => {}
            }
            continue;
        }
    }
    if !found.is_empty() {
        return found;
    }
    // "... kerätä ja päivittää myös väestötietojärjestelmästä, kaupparekisteristä ja
    // luottotietorekistereistä": registers named in the elative, each a source of its own.
    let start = [
        "päivittää",
        "kerätä",
        "kerätään",
        "päivitetään",
        "hankitaan",
        "saadaan",
    ]
    .iter()
    .filter_map(|v| lower.find(v).map(|p| p + v.len()))
    .max();
    if let Some(start) = start
        && let Some(rest) = sentence.get(start..)
    {
        let rest = rest
            .trim_start()
            .strip_prefix("myös ")
            .unwrap_or(rest.trim_start());
        for item in split_items(rest, true) {
            let item_lower = item.to_lowercase();
            let last = item_lower.rsplit(' ').next().unwrap_or_default();
            // "... sekä muista vastaavista rekistereistä": what follows "other" is no name.
            if ["muista", "muilta", "other"]
                .iter()
                .any(|g| item_lower.starts_with(g))
            {
                break;
            }
            let register = [
                "rekister",
                "järjestelm",
                "tietokan",
                "tietopalvelu",
                "luettelo",
            ]
            .iter()
            .any(|r| item_lower.contains(r));
            let own = ["asiakkaan", "rekisteröidyn", "omista", "heidän", "hänen"]
                .iter()
                .any(|o| item_lower.starts_with(o));
            if !(last.ends_with("sta") || last.ends_with("stä")) || !register || own {
                continue;
            }
            let name: Vec<String> = item.split_whitespace().map(nominative).collect();
            found.push((capitalise(&name.join(" ")), String::new()));
        }
    }
    found
}

/// A Finnish word in the elative ("rekistereistä", "ylläpitämistä", "järjestelmästä") in the
/// nominative; other words as they are.
fn nominative(word: &str) -> String {
    for (ending, replacement) in [
        ("eistä", "it"),
        ("eista", "it"),
        ("mistä", "mät"),
        ("mista", "mat"),
        ("stä", ""),
        ("sta", ""),
    ] {
        if let Some(stem) = word.strip_suffix(ending)
            && stem.chars().count() >= 3
        {
            return format!("{stem}{replacement}");
        }
    }
    word.to_owned()
}

/// A party's details written as prose.
#[derive(Default)]
struct ProseParty {
    name: String,
    business_id: Option<BusinessId>,
    address: PostalAddress,
    phone: String,
    email: String,
    contact_name: String,
    contact_email: String,
}

/// Reads "Rekisterinpitäjänä toimii Hymykuoppa Oy (Y-tunnus 2147682-5), jonka vastaanotto
/// sijaitsee osoitteessa Torikatu 18 A, 80100 Joensuu. Puhelinnumero on 013 227 4150 ja
/// sähköpostiosoite vastaanotto@hymykuoppa.fi." Whatever is not plainly there stays empty.
fn prose_party(text: &str, contact: bool) -> ProseParty {
    let mut p = ProseParty::default();
    let contact_words = [
        "yhteyshenkilö",
        "kontaktperson",
        "contact person",
        "vastaava henkilö",
    ];
    for (i, sentence) in text::sentences(text).iter().enumerate() {
        let lower = sentence.to_lowercase();
        let about_contact = !contact && contact_words.iter().any(|w| lower.contains(w));
        // The name: what follows "toimii"/"on"/"är"/"is" near the start, up to "(" or ",".
        let after_verb = [" toimii ", " on ", " är ", " is "].iter().find_map(|v| {
            lower
                .find(v)
                .filter(|p| lower[..*p].split_whitespace().count() <= 4)
                .and_then(|p| sentence.get(p + v.len()..))
        });
        if let Some(rest) = after_verb {
            let head = rest.split([',', '(']).next().unwrap_or_default();
            let head = trim_item(head);
            if about_contact && p.contact_name.is_empty() {
                p.contact_name = person_name(&head).0;
            } else if i == 0
                && head.split_whitespace().count() <= 6
                && head.chars().next().is_some_and(char::is_uppercase)
            {
                p.name = if contact { person_name(&head).0 } else { head };
            }
        }
        if let Some(e) = email_in(sentence).filter(|e| !is_template_email(e)) {
            if about_contact {
                p.contact_email = e;
            } else if p.email.is_empty() {
                p.email = e;
            }
        }
        if p.business_id.is_none() {
            p.business_id = business_id_in(sentence).and_then(|id| BusinessId::parse(id).ok());
        }
        if p.phone.is_empty() && !about_contact {
            for keyword in [
                "puhelinnumero",
                "puhelin",
                "numerosta",
                "puh.",
                "telefon",
                "phone",
                "tel.",
            ] {
                if let Some(pos) = lower.find(keyword)
                    && let Some(rest) = sentence.get(pos + keyword.len()..)
                {
                    let rest = rest.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '+'));
                    if let Some(phone) = phone_in(rest) {
                        p.phone = phone;
                        break;
                    }
                }
            }
        }
        // "..., Koskikatu 31, 96200 Rovaniemi": the postal line and the street before it.
        let parts: Vec<&str> = sentence.split(", ").collect();
        for (j, part) in parts.iter().enumerate() {
            let part = part.trim().trim_end_matches('.');
            let Some((code, office)) = postal_line(part) else {
                continue;
            };
            if office.split_whitespace().count() > 2 || p.address.postal_code.len() == 5 {
                continue;
            }
            p.address.postal_code = code;
            p.address.post_office = office;
            if let Some(before) = j.checked_sub(1).map(|k| parts[k]) {
                let words: Vec<&str> = before.split_whitespace().collect();
                if let Some(start) = (0..words.len()).rev().find(|&k| {
                    words[k].chars().next().is_some_and(char::is_uppercase)
                        && words
                            .get(k + 1)
                            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
                }) {
                    p.address.lines.push(words[start..].join(" "));
                }
            }
        }
    }
    p
}

/// "etunimi.sukunimi@example.fi": how addresses are formed, not one.
fn is_template_email(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or_default();
    [
        "etunimi.sukunimi",
        "etunimi_sukunimi",
        "firstname.lastname",
        "first.last",
        "fornamn.efternamn",
        "förnamn.efternamn",
    ]
    .contains(&local)
}

/// What goes when the value at `path` is refused: a rule's parts only make sense together, and
/// transfers must agree with transfers_outside_eea.
fn removal_path(path: &str) -> String {
    if path.starts_with("retention") {
        "retention".into()
    } else if path.starts_with("transfers") {
        "transfers".into()
    } else {
        path.to_owned()
    }
}

/// Removes the value at `path` ("a.b[2].c"): list items are removed whole, other values reset.
fn clear_path(value: &mut serde_json::Value, path: &str) -> Option<serde_json::Value> {
    use serde_json::Value;
    if path == "transfers" {
        value["transfers_outside_eea"] = Value::Null;
    }
    let mut parts: Vec<(&str, Option<usize>)> = path
        .split('.')
        .map(|p| match p.split_once('[') {
            Some((name, index)) => (name, index.trim_end_matches(']').parse().ok()),
            None => (p, None),
        })
        .collect();
    let (last_name, last_index) = parts.pop()?;
    let mut node = value;
    for (name, index) in parts {
        node = node.get_mut(name)?;
        if let Some(i) = index {
            // A bad field inside a list item: the item goes.
            let list = node.as_array_mut()?;
            return (i < list.len()).then(|| list.remove(i));
        }
    }
    let target = node.get_mut(last_name)?;
    match (last_index, target) {
        (Some(i), Value::Array(list)) => (i < list.len()).then(|| list.remove(i)),
        (_, target) => {
            let empty = match target {
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(vec![]),
                _ => Value::Null,
            };
            Some(std::mem::replace(target, empty))
        }
    }
}
