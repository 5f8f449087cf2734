//! How long the data is kept: the rule that binds, wherever the document states it.

use super::*;

impl Builder {
    /// A retention rule from one sentence (or a whole rendered paragraph).
    pub(in crate::import) fn parse_retention(text: &str) -> Option<RetentionRule> {
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

    pub(in crate::import) fn parse_retention_rule(text: &str) -> Option<RetentionRule> {
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

    pub(in crate::import) fn is_canonical_retention(rule: &RetentionRule, text: &str) -> bool {
        Lang::ALL
            .iter()
            .any(|l| l.phrases().retention(rule) == text)
    }

    pub(in crate::import) fn retention(&mut self, s: &Section<'_>) {
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
    pub(in crate::import) fn retention_elsewhere(&mut self, sections: &[Section<'_>]) {
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
}
