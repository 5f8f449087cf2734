//! Finnish identifiers and contact values, parsed at the edge into newtypes so that no raw string
//! is passed around. Only values that passed validation can exist: a [`BusinessId`] always has a
//! correct check digit, a [`PersonalIdentityCode`] a real date and a correct check character, a
//! [`PhoneNumber`] is in E.164 form.

mod business_id;
mod contact;
mod hetu;

pub use business_id::{BusinessId, BusinessIdError};
pub use contact::{AssociationNumber, ContactError, Email, Language, PhoneNumber, PostalCode};
pub use hetu::{HetuError, HetuPolicy, PersonalIdentityCode};
