//! The kinds of data the register holds, from lists, one-per-line lines and prose enumerations.

use super::*;

impl Builder {
    pub(in crate::import) fn data_content(&mut self, s: &Section<'_>) {
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

    pub(in crate::import) fn add_category(
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
        let base = slug(&description);
        let mut key = base.clone();
        // A set of the keys in use and the next number per base: a document that repeats one
        // line thousands of times stays linear.
        while self.category_keys.contains(&key) {
            let n = self.key_suffixes.entry(base.clone()).or_insert(1);
            *n += 1;
            key = format!("{base}_{n}");
        }
        self.category_keys.insert(key.clone());
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
}
