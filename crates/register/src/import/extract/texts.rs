//! Free texts: the security principles and the data subject's rights.

use super::*;

/// Where a labelled or free-text field of the rights and security sections goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::import) enum Target {
    Access,
    Rectification,
    Marketing,
    Manual,
    Electronic,
}

impl Builder {
    /// Free texts: security principles and the rights. Labelled lines of a rendered notice pick
    /// their field; an unlabelled line continues the previous label's field or goes to `default`.
    pub(in crate::import) fn texts(&mut self, s: &Section<'_>, default: Target) {
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
}
