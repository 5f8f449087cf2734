//! The Finnish personal identity code (henkilötunnus, HETU).
//!
//! `DDMMYYCZZZQ`: date of birth, century sign, individual number, check character. Century signs
//! (Digital and Population Data Services Agency, since 1 January 2023): `+` for the 1800s; `-` and
//! `Y`, `X`, `W`, `V`, `U` for the 1900s; `A` and `B`, `C`, `D`, `E`, `F` for the 2000s. The check
//! character is the nine digits `DDMMYYZZZ` as one number modulo 31, looked up in
//! `0123456789ABCDEFHJKLMNPRSTUVWXY`. Individual numbers 002–899 are given to people; 900–999 are
//! temporary and test identities, accepted only when the policy says so.
//!
//! A code is personal data of the most sensitive kind in Finland: this type never prints itself.
//! `Debug` shows only that there is one; [`PersonalIdentityCode::expose`] gives the value to code
//! that must (encryption, the blind index).

use std::fmt;

use chrono::NaiveDate;

const CHECK_CHARACTERS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Why a code was refused; the text names the part that is wrong and never repeats the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HetuError {
    #[error(
        "a personal identity code is eleven characters: DDMMYY, a century sign, three digits and a check character"
    )]
    Format,
    #[error("`{0}` is not a century sign (+, -, U–Y, A–F)")]
    CenturySign(char),
    #[error("the date of birth in the personal identity code does not exist")]
    Date,
    #[error(
        "the individual number {0:03} is not given to anyone (002–899, or 900–999 when temporary codes are accepted)"
    )]
    IndividualNumber(u16),
    #[error("temporary personal identity codes (individual number 900–999) are not accepted here")]
    Temporary,
    #[error("the check character of the personal identity code is wrong")]
    CheckCharacter,
}

/// Which codes a service accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HetuPolicy {
    /// Individual numbers 900–999: temporary identities and test data.
    pub accept_temporary: bool,
}

/// A valid personal identity code, kept in its canonical form (upper case, no white space).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonalIdentityCode {
    code: String,
    birth_date: NaiveDate,
}

impl PersonalIdentityCode {
    pub fn parse(input: &str, policy: HetuPolicy) -> Result<Self, HetuError> {
        let code = input.trim().to_ascii_uppercase();
        // Checked before any slicing: a multi-byte character must be an error, not a panic.
        if code.len() != 11 || !code.is_ascii() {
            return Err(HetuError::Format);
        }
        let bytes = code.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Result<u32, HetuError> {
            let part = &code[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                Ok(part.parse().expect("ASCII digits parse"))
            } else {
                Err(HetuError::Format)
            }
        };
        let (day, month, year) = (digits(0..2)?, digits(2..4)?, digits(4..6)?);
        let individual = digits(7..10)?;
        let century = match bytes[6] {
            b'+' => 1800,
            b'-' | b'U'..=b'Y' => 1900,
            b'A'..=b'F' => 2000,
            other => return Err(HetuError::CenturySign(other as char)),
        };
        let birth_date =
            NaiveDate::from_ymd_opt(century + year as i32, month, day).ok_or(HetuError::Date)?;
        if individual < 2 {
            return Err(HetuError::IndividualNumber(individual as u16));
        }
        if individual >= 900 && !policy.accept_temporary {
            return Err(HetuError::Temporary);
        }
        let number = (day * 10_000 + month * 100 + year) * 1000 + individual;
        if bytes[10] != CHECK_CHARACTERS[(number % 31) as usize] {
            return Err(HetuError::CheckCharacter);
        }
        Ok(Self { code, birth_date })
    }

    /// The code itself, for encryption and the blind index only.
    pub fn expose(&self) -> &str {
        &self.code
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Temporary or test identity (individual number 900–999).
    pub fn is_temporary(&self) -> bool {
        self.code.as_bytes()[7] == b'9'
    }
}

impl fmt::Debug for PersonalIdentityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalIdentityCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: HetuPolicy = HetuPolicy {
        accept_temporary: false,
    };
    const LENIENT: HetuPolicy = HetuPolicy {
        accept_temporary: true,
    };

    /// Completes `DDMMYYCZZZ` with its check character.
    fn with_check(first_ten: &str) -> String {
        let digits: String = first_ten
            .chars()
            .enumerate()
            .filter(|(i, _)| *i != 6)
            .map(|(_, c)| c)
            .collect();
        let n: u64 = digits.parse().unwrap();
        format!("{first_ten}{}", CHECK_CHARACTERS[(n % 31) as usize] as char)
    }

    #[test]
    fn the_published_examples_are_valid() {
        // The Digital and Population Data Services Agency's own examples (one person, both signs).
        for code in [
            "131052-308T",
            "131052X308T",
            "010594Y9032",
            "010594Y9021",
            "020502E902X",
        ] {
            assert!(PersonalIdentityCode::parse(code, LENIENT).is_ok(), "{code}");
        }
        let p = PersonalIdentityCode::parse("131052-308T", STRICT).unwrap();
        assert_eq!(
            p.birth_date(),
            NaiveDate::from_ymd_opt(1952, 10, 13).unwrap()
        );
        assert!(!p.is_temporary());
    }

    #[test]
    fn every_century_sign_gives_its_century() {
        let cases = [
            ('+', 1899),
            ('-', 1999),
            ('U', 1999),
            ('V', 1999),
            ('W', 1999),
            ('X', 1999),
            ('Y', 1999),
            ('A', 2099),
            ('B', 2099),
            ('C', 2099),
            ('D', 2099),
            ('E', 2099),
            ('F', 2099),
        ];
        for (sign, year) in cases {
            let code = with_check(&format!("311299{sign}123"));
            let parsed = PersonalIdentityCode::parse(&code, STRICT)
                .unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(
                parsed.birth_date(),
                NaiveDate::from_ymd_opt(year, 12, 31).unwrap()
            );
        }
        for sign in ['G', 'Z', 'T', '*', '/'] {
            let code = format!("311299{sign}123X");
            assert_eq!(
                PersonalIdentityCode::parse(&code, STRICT),
                Err(HetuError::CenturySign(sign)),
                "{code}"
            );
        }
    }

    #[test]
    fn checks_date_number_and_check_character() {
        assert_eq!(
            PersonalIdentityCode::parse(&with_check("290223A123"), STRICT),
            Err(HetuError::Date),
            "2023 is not a leap year"
        );
        assert!(PersonalIdentityCode::parse(&with_check("290224A123"), STRICT).is_ok());
        assert_eq!(
            PersonalIdentityCode::parse(&with_check("320190-123"), STRICT),
            Err(HetuError::Date)
        );
        assert_eq!(
            PersonalIdentityCode::parse(&with_check("010190-001"), STRICT),
            Err(HetuError::IndividualNumber(1))
        );
        assert_eq!(
            PersonalIdentityCode::parse("131052-308U", STRICT),
            Err(HetuError::CheckCharacter)
        );
        // Temporary codes by policy.
        let temporary = with_check("010190-950");
        assert_eq!(
            PersonalIdentityCode::parse(&temporary, STRICT),
            Err(HetuError::Temporary)
        );
        assert!(
            PersonalIdentityCode::parse(&temporary, LENIENT)
                .unwrap()
                .is_temporary()
        );
    }

    #[test]
    fn lower_case_and_white_space_are_forgiven_anything_else_is_not() {
        let p = PersonalIdentityCode::parse(" 131052x308t ", STRICT).unwrap();
        assert_eq!(p.expose(), "131052X308T");
        for bad in [
            "",
            "131052-308",
            "131052-308TT",
            "1310523308T",
            "13105a-308T",
            "131052-3O8T",
            "131052—308T",
            "13105ä-308T",
            "ääääääääääå",
            "1310５2-308T",
            "🙂🙂🙂",
        ] {
            assert!(
                PersonalIdentityCode::parse(bad, LENIENT).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn never_shows_itself() {
        let p = PersonalIdentityCode::parse("131052-308T", STRICT).unwrap();
        assert!(!format!("{p:?}").contains("131052"));
        let err = PersonalIdentityCode::parse("131052-308U", STRICT).unwrap_err();
        assert!(!err.to_string().contains("131052"));
    }
}
