//! What the catalogue publishes on JetStream, and the events themselves.

use rekisteri_platform::outbox::{self, StreamSpec};
use rekisteri_proto::common::v1::BusinessId as BusinessIdPb;
use rekisteri_proto::events::v1::{
    EventEnvelope, RegisterPublished, RegisterRetired, event_envelope::Payload,
};

use crate::store::{Register, Version};

pub const SOURCE: &str = "catalogue";
/// Register events name registers and organisations, never people; a year on the stream
/// lets a new consumer rebuild its view of the catalogue from the stream alone.
pub const STREAM: StreamSpec = StreamSpec {
    name: "REKISTERI_CATALOGUE",
    subjects: &["rekisteri.catalogue.>"],
    max_age: std::time::Duration::from_secs(365 * 24 * 3600),
    max_bytes: 1024 * 1024 * 1024,
};
pub const REGISTER_PUBLISHED_SUBJECT: &str = "rekisteri.catalogue.register.published";
pub const REGISTER_PUBLISHED_TYPE: &str = "rekisteri.catalogue.register_published.v1";
pub const REGISTER_RETIRED_SUBJECT: &str = "rekisteri.catalogue.register.retired";
pub const REGISTER_RETIRED_TYPE: &str = "rekisteri.catalogue.register_retired.v1";

/// `version` was just published, superseding `superseded` if there was one.
pub fn register_published(
    actor: &str,
    version: &Version,
    superseded: Option<i32>,
) -> EventEnvelope {
    let content = &version.content;
    let event = RegisterPublished {
        register_id: version.register_id.clone(),
        version: version.number as u32,
        register_name: content.name.clone(),
        controller_name: content.controller.name.clone(),
        controller_business_id: content
            .controller
            .business_id
            .as_ref()
            .map(|b| BusinessIdPb {
                value: b.to_string(),
            }),
        data_category_keys: content
            .data_categories
            .iter()
            .map(|c| c.key.clone())
            .collect(),
        includes_national_identity_code: content.includes_national_identity_code(),
        includes_special_categories: content.includes_special_categories(),
        superseded_version: superseded.unwrap_or(0) as u32,
    };
    outbox::envelope(
        SOURCE,
        REGISTER_PUBLISHED_TYPE,
        actor,
        Payload::RegisterPublished(event),
    )
}

/// `register` was just retired, for `reason`.
pub fn register_retired(actor: &str, register: &Register, reason: String) -> EventEnvelope {
    let event = RegisterRetired {
        register_id: register.id.clone(),
        last_published_version: register.published_version.unwrap_or(0) as u32,
        reason,
    };
    outbox::envelope(
        SOURCE,
        REGISTER_RETIRED_TYPE,
        actor,
        Payload::RegisterRetired(event),
    )
}
