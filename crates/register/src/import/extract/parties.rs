//! The controller and the contact person: labelled lines, lines of an address block, or prose.

use super::*;

impl Builder {
    /// A title written with the contact person's name is their role, unless one is known.
    fn title_as_role(
        &mut self,
        role: &mut String,
        title: Option<String>,
        evidence: String,
        lines: &[u32],
    ) {
        if let Some(title) = title.filter(|_| role.is_empty()) {
            self.map("contact_person.role", &title, evidence, lines);
            *role = title;
        }
    }

    pub(in crate::import) fn party(&mut self, s: &Section<'_>, contact: bool) {
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
                        self.title_as_role(
                            &mut role,
                            title,
                            evidence("a title with the name"),
                            &no,
                        );
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
                    // "The controller is" / "Rekisterinpitäjä on" above the name.
                    let lower = format!(" {}", text.to_lowercase());
                    if [" is", " on", " är", " ovat", " are"]
                        .iter()
                        .any(|v| lower.trim_end_matches(':').ends_with(v))
                    {
                        self.unmap(&no, text, &section, "introduces the details after it");
                        continue;
                    }
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
                        self.title_as_role(
                            &mut role,
                            title,
                            evidence("a title with the name"),
                            &no,
                        );
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

    pub(in crate::import) fn address(&self, value: &str, address: &mut PostalAddress) {
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
}

/// A person's name from "Tommi Laaksonen, gym manager" or "Opetuspäällikkö Mikko Salmela", with
/// the title; an empty name when the text names a role only ("Paloniemen kunnan
/// tietosuojavastaava").
pub(super) fn person_name(text: &str) -> (String, Option<String>) {
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

/// A party's details written as prose.
#[derive(Default)]
pub(super) struct ProseParty {
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
pub(super) fn prose_party(text: &str, contact: bool) -> ProseParty {
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
pub(super) fn is_template_email(email: &str) -> bool {
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
