//! Contact values: email addresses, phone numbers in E.164, Finnish postal codes, association
//! register numbers and the three languages a customer is served in.

use std::fmt;

/// Why a contact value was refused; the text is for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("not an email address (name@domain.tld)")]
    Email,
    #[error(
        "not a phone number: give it with a country code (+358 44 596 2025) or as a Finnish number starting with 0 (044 596 2025)"
    )]
    Phone,
    #[error("a Finnish postal code is five digits, e.g. 00100")]
    PostalCode,
    #[error("an association register number (yhdistysrekisterinumero) is one to seven digits")]
    AssociationNumber,
    #[error("the language is one of fi, sv and en")]
    Language,
}

/// An email address: one `@`, a local part of at most 64 characters, a domain of dot-separated
/// labels with a top-level domain. The domain is kept in lower case; the local part as given
/// (RFC 5321 lets a server tell `Matti` from `matti`, though few do).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let input = input.trim();
        let (local, domain) = input.rsplit_once('@').ok_or(ContactError::Email)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let domain = domain.to_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !local_ok || !domain_ok || input.len() > 254 {
            return Err(ContactError::Email);
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form lookups compare: the whole address in lower case.
    pub fn lookup_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A phone number in E.164 form (`+358445962025`).
///
/// Accepted input: `+` and a country code, `00` and a country code, or a Finnish national number
/// starting with `0` (`044 596 2025`, `06 2477 100`), which becomes `+358` without the `0`. Spaces,
/// hyphens, dots and brackets are ignored, and so is a bracketed trunk zero after the country
/// code (`+358 (0)44 …`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let input = input.trim().replace("(0)", "");
        let mut kept = String::with_capacity(input.len());
        for c in input.chars() {
            match c {
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                '+' if kept.is_empty() => kept.push('+'),
                '0'..='9' => kept.push(c),
                _ => return Err(ContactError::Phone),
            }
        }
        let international = if let Some(rest) = kept.strip_prefix('+') {
            rest.to_owned()
        } else if let Some(rest) = kept.strip_prefix("00") {
            rest.to_owned()
        } else if let Some(rest) = kept.strip_prefix('0') {
            format!("358{rest}")
        } else {
            return Err(ContactError::Phone);
        };
        // E.164: a country code that does not start with 0, at most 15 digits in all. Finnish
        // numbers have 5 to 12 digits after +358.
        let finnish_ok = international.strip_prefix("358").is_none_or(|national| {
            (5..=12).contains(&national.len()) && !national.starts_with('0')
        });
        if !(8..=15).contains(&international.len()) || international.starts_with('0') || !finnish_ok
        {
            return Err(ContactError::Phone);
        }
        Ok(Self(format!("+{international}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Finnish postal code: five digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let input = input.trim();
        if input.len() == 5 && input.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(ContactError::PostalCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The number of a registered association in the Finnish Register of Associations.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AssociationNumber(String);

impl AssociationNumber {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let digits = input.trim().trim_start_matches('0');
        if (1..=7).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(ContactError::AssociationNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The language a customer is served and invoiced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Finnish,
    Swedish,
    English,
}

impl Language {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "fi" => Ok(Self::Finnish),
            "sv" => Ok(Self::Swedish),
            "en" => Ok(Self::English),
            _ => Err(ContactError::Language),
        }
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Finnish => "fi",
            Self::Swedish => "sv",
            Self::English => "en",
        }
    }
}

macro_rules! shows_its_value {
    ($($t:ident),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self.0)
            }
        }
    )*};
}
shows_its_value!(Email, PhoneNumber, PostalCode, AssociationNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finnish_phone_numbers_become_e164() {
        for (input, e164) in [
            ("044 596 2025", "+358445962025"),
            ("06 2477 100", "+35862477100"),
            ("+358 44 596 2025", "+358445962025"),
            ("+358 (0)44 596 2025", "+358445962025"),
            ("00358-44-596-2025", "+358445962025"),
            ("(09) 123 4567", "+35891234567"),
            ("+46 8 123 456 78", "+46812345678"),
        ] {
            assert_eq!(PhoneNumber::parse(input).unwrap().as_str(), e164, "{input}");
        }
        for bad in [
            "",
            "445962025",
            "+358 0445962025",
            "044 596 2025 ext 5",
            "+1",
            "0",
            "+358 1234",
            "+1234567890123456",
            "٠٤٤٥٩٦٢٠٢٥",
            "044–596–2025",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(ContactError::Phone), "{bad:?}");
        }
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            Email::parse(" Matti.Meikalainen@Example.FI ")
                .unwrap()
                .as_str(),
            "Matti.Meikalainen@example.fi"
        );
        assert_eq!(
            Email::parse("Matti@Example.fi").unwrap().lookup_key(),
            "matti@example.fi"
        );
        assert!(Email::parse("info@mainostakomo.com").is_ok());
        assert!(Email::parse("pörrö@äänekoski.fi").is_ok());
        for bad in [
            "",
            "matti",
            "matti@",
            "@example.fi",
            "matti@example",
            "matti@@example.fi",
            "matti meikalainen@example.fi",
            ".matti@example.fi",
            "matti..m@example.fi",
            "matti@-example.fi",
            "matti@example.123",
            "matti@exa_mple.fi",
        ] {
            assert_eq!(Email::parse(bad), Err(ContactError::Email), "{bad:?}");
        }
    }

    #[test]
    fn postal_codes_association_numbers_and_languages() {
        assert_eq!(PostalCode::parse(" 00100 ").unwrap().as_str(), "00100");
        for bad in ["0010", "001000", "0010A", "００１００", ""] {
            assert!(PostalCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            AssociationNumber::parse("012345").unwrap().as_str(),
            "12345"
        );
        assert!(AssociationNumber::parse("12345678").is_err());
        assert!(AssociationNumber::parse("ry 123").is_err());
        assert_eq!(Language::parse("SV").unwrap(), Language::Swedish);
        assert_eq!(Language::parse("en").unwrap().code(), "en");
        assert!(Language::parse("de").is_err());
    }
}
