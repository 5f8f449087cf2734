//! What the register is: its name, legal basis, purposes and the groups of people in it.

use super::*;

impl Builder {
    pub(in crate::import) fn name(&mut self, s: &Section<'_>) {
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

    pub(in crate::import) fn basis(&mut self, s: &Section<'_>) {
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

    pub(in crate::import) fn add_purpose(
        &mut self,
        purpose: String,
        evidence: String,
        lines: &[u32],
    ) {
        let i = self.content.purposes.len();
        self.map(format!("purposes[{i}]"), &purpose, evidence, lines);
        self.content.purposes.push(purpose);
    }

    pub(in crate::import) fn purposes(&mut self, s: &Section<'_>) {
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
                    self.add_data_subject_source(
                        trim_item(&sentence),
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

    pub(in crate::import) fn subjects(&mut self, s: &Section<'_>) {
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
}
