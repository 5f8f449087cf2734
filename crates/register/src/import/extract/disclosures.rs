//! Who the data is disclosed to, and transfers outside the EU/EEA.

use super::*;

impl Builder {
    pub(in crate::import) fn disclosures(&mut self, s: &Section<'_>) {
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

    pub(in crate::import) fn disclosure_unit(
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
}
