//! Where the data comes from: the data subject, organisations listed or named in prose.

use super::*;

impl Builder {
    /// The data subject as a source, supplying what `supplies` says.
    pub(in crate::import) fn add_data_subject_source(
        &mut self,
        supplies: String,
        evidence: String,
        lines: &[u32],
    ) {
        let source = DataSource {
            kind: DataSourceKind::DataSubject,
            organisation_name: String::new(),
            organisation_business_id: None,
            supplies,
        };
        self.add_source(source, evidence, lines);
    }

    pub(in crate::import) fn add_source(
        &mut self,
        source: DataSource,
        evidence: String,
        lines: &[u32],
    ) {
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

    pub(in crate::import) fn sources(&mut self, s: &Section<'_>) {
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
                self.add_data_subject_source(
                    supplies,
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
                    self.add_data_subject_source(
                        trim_item(&sentence),
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
}

/// The external sources a sentence names, each with what it supplies when the sentence says so:
/// "we may obtain updated address information from Posti Ltd and credit information from
/// Suomen Asiakastieto Oy", "Ajokorttilupaa koskevat tiedot toimittaa Trafi", "Muita lähteitä ovat
/// X (mitä), Y (mitä)", "...päivittää myös väestötietojärjestelmästä, kaupparekisteristä ...".
pub(super) fn prose_sources(sentence: &str) -> Vec<(String, String)> {
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
pub(super) fn nominative(word: &str) -> String {
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
