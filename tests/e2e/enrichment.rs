//! The enrichment service with the whole system: an organisation created in a register that
//! declares PRH is enriched through events (customer created → enrichment → customer updated,
//! each field with its source), once however often the events are delivered; lookups outside
//! the declared sources or without a permitted purpose are refused; an adapter process plugs in
//! over the adapter protocol. PRH and the credit bureau are local HTTP servers answering in
//! their formats (PRH's from captured real responses).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rekisteri_e2e::System;
use rekisteri_platform::auth::BearerToken;
use rekisteri_platform::error::field_violations;
use rekisteri_proto::catalogue::v1 as cat;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::common::v1::{BusinessId, PostalAddress};
use rekisteri_proto::customers::v1 as cpb;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use rekisteri_proto::enrichment::v1 as pb;
use rekisteri_proto::enrichment::v1::enrichment_service_client::EnrichmentServiceClient;
use rekisteri_proto::events::v1::{
    EnrichedField, EnrichmentCompleted, EventEnvelope, event_envelope::Payload,
};
use rekisteri_proto::operations::v1::GetStatusRequest;
use rekisteri_proto::operations::v1::operations_service_client::OperationsServiceClient;
use rekisteri_test_support::{Backend, db_tests, stream_messages, tokens};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{sample, wait_until};

db_tests!(
    an_organisation_is_enriched_through_events_once_with_its_sources,
    lookups_need_a_declaring_register_and_credit_a_purpose,
    an_adapter_process_plugs_in_over_the_protocol,
);

type Catalogue = CatalogueServiceClient<InterceptedService<Channel, BearerToken>>;
type Customers = CustomerServiceClient<InterceptedService<Channel, BearerToken>>;
type Enrichment = EnrichmentServiceClient<InterceptedService<Channel, BearerToken>>;

const ADAPTER_TOKEN: &str = "adapter-token";

fn prh_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/enrichment/tests/fixtures/prh")
            .join(name),
    )
    .unwrap()
}

/// A PRH stand-in: Nokia's real record, the real "not found" for any other ID.
async fn prh() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/opendata-ytj-api/v3/companies"))
        .and(query_param("businessId", "0112038-9"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(prh_fixture("company-0112038-9.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/opendata-ytj-api/v3/companies"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(prh_fixture("not-found.json"), "application/json"),
        )
        .mount(&server)
        .await;
    server
}

async fn prh_calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// The system with enrichment pointed at the stand-ins.
async fn system(
    backend: Backend,
    prh: &MockServer,
    credit: Option<&MockServer>,
    adapter_port: Option<u16>,
) -> System {
    let mut sections = format!(
        "[enrichment.prh]\nenabled = true\nbase_url = \"{}\"\n",
        prh.uri()
    );
    if let Some(credit) = credit {
        sections.push_str(&format!(
            "[enrichment.credit]\nenabled = true\ndemo_url = \"{}\"\nuser_id = \"rekisteri\"\nend_user = \"tester\"\nkey = \"shared-key\"\n",
            credit.uri()
        ));
    }
    if let Some(port) = adapter_port {
        sections.push_str(&format!(
            "[enrichment.external.kyc]\nenabled = true\nbase_url = \"http://127.0.0.1:{port}\"\ntoken = \"{ADAPTER_TOKEN}\"\nsupplies = \"KYC status\"\ndeclared_as = [\"Esimerkkipankki\"]\ntimeout_ms = 1000\nretries = 0\nbreaker_failures = 2\nbreaker_cool_down_seconds = 1\ncache_seconds = 60\n"
        ));
    }
    System::start_with(backend, |entry, config| {
        if entry.name() == "enrichment" {
            config
                .add_sections(&sections)
                .expect("the test's enrichment settings");
        }
    })
    .await
}

async fn clients(system: &System) -> (Catalogue, Customers, Enrichment) {
    let bearer = || BearerToken::new(tokens::ADMIN).unwrap();
    (
        CatalogueServiceClient::with_interceptor(
            system.service("catalogue").channel().await,
            bearer(),
        ),
        CustomerServiceClient::with_interceptor(
            system.service("customers").channel().await,
            bearer(),
        ),
        EnrichmentServiceClient::with_interceptor(
            system.service("enrichment").channel().await,
            bearer(),
        ),
    )
}

/// Publishes a register whose content is the sample's, with `sources` changed by `edit`.
async fn publish(
    catalogue: &mut Catalogue,
    edit: impl FnOnce(&mut Vec<cat::DataSource>),
) -> String {
    let mut content = sample();
    content.name = format!("{} ({})", content.name, uuid::Uuid::now_v7());
    edit(&mut content.sources);
    let id = catalogue
        .create_register(cat::CreateRegisterRequest {
            content: Some(content),
        })
        .await
        .expect("create")
        .into_inner()
        .register
        .unwrap()
        .register_id;
    catalogue
        .publish_register(cat::PublishRegisterRequest {
            register_id: id.clone(),
            expected_version: 0,
            etag: String::new(),
        })
        .await
        .expect("publish");
    id
}

fn context(register_id: &str) -> Option<pb::LookupContext> {
    Some(pb::LookupContext {
        register_id: register_id.into(),
        subject_id: String::new(),
        reference: "e2e".into(),
    })
}

fn business(id: &str) -> Option<BusinessId> {
    Some(BusinessId { value: id.into() })
}

async fn an_organisation_is_enriched_through_events_once_with_its_sources(backend: Backend) {
    let prh = prh().await;
    let system = system(backend, &prh, None, None).await;
    let (mut catalogue, mut customers, mut enrichment) = clients(&system).await;
    // The sample register declares "Patentti- ja rekisterihallitus (YTJ, Yhdistysnetti)".
    let register = publish(&mut catalogue, |_| {}).await;

    // The CRM types a short name and an old address.
    let created = customers
        .create_organisation(cpb::CreateOrganisationRequest {
            organisation: Some(cpb::Organisation {
                name: "Nokia".into(),
                business_id: business("0112038-9"),
                association_number: String::new(),
                addresses: vec![PostalAddress {
                    lines: vec!["Keilalahdentie 4".into()],
                    postal_code: "02150".into(),
                    post_office: "ESPOO".into(),
                    country_code: String::new(),
                }],
            }),
            memberships: vec![cpb::RegisterMembership {
                register_id: register.clone(),
                basis: "asiakassuhde".into(),
                start_date: String::new(),
                end_date: String::new(),
            }],
            billing: None,
        })
        .await
        .expect("created")
        .into_inner()
        .subject
        .unwrap();
    let id = created.subject_id.clone();

    // Through the events: requested, fetched from PRH, applied with sources.
    let mut subject = cpb::Subject::default();
    wait_until("the enriched values are applied", async || {
        subject = customers
            .get_subject(cpb::GetSubjectRequest {
                subject_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .subject
            .unwrap();
        // Both: a read is several queries, and may see the sources before the name.
        subject.field_sources.len() == 2
            && subject
                .organisation
                .as_ref()
                .is_some_and(|o| o.name == "Nokia Oyj")
    })
    .await;
    let organisation = subject.organisation.clone().unwrap();
    assert_eq!(
        organisation.name, "Nokia Oyj",
        "the register's current main name"
    );
    let lines: Vec<Vec<String>> = organisation
        .addresses
        .iter()
        .map(|a| a.lines.clone())
        .collect();
    assert_eq!(
        lines,
        [vec!["PL 226".to_owned()], vec!["Karakaari 7".to_owned()]],
        "postal first"
    );
    assert_eq!(organisation.addresses[0].post_office, "NOKIA GROUP");
    for source in &subject.field_sources {
        assert_eq!(source.source, "prh");
        assert_eq!(source.register_id, register);
        assert!(!source.provenance_id.is_empty());
    }
    let fields: Vec<&str> = subject
        .field_sources
        .iter()
        .map(|s| s.field.as_str())
        .collect();
    assert_eq!(fields, ["organisation.addresses", "organisation.name"]);
    assert_ne!(
        subject.etag, created.etag,
        "applying moved the subject to a new revision"
    );

    // The export, which answers an access request, says where the data came from.
    let export = customers
        .export_subject(cpb::ExportSubjectRequest {
            subject_id: id.clone(),
            reason: "access request e2e".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    assert_eq!(export.field_sources, subject.field_sources);
    let provenance = enrichment
        .list_provenance(pb::ListProvenanceRequest {
            subject_id: id.clone(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(provenance.records.len(), 1);
    let record = &provenance.records[0];
    assert_eq!(record.source, "prh");
    assert_eq!(record.provenance_id, subject.field_sources[0].provenance_id);
    assert!(
        record.requested_by.starts_with("event:"),
        "{}",
        record.requested_by
    );
    assert!(
        record.fields.contains(&"name".to_owned())
            && record.fields.contains(&"addresses".to_owned())
    );
    assert_eq!(prh_calls(&prh).await, 1);

    // Both events delivered again (copies with new message ids, as after a publisher's retry
    // that JetStream's duplicate window no longer covers): no second call, no second update.
    let nats = system.nats.client().await;
    for (stream, wanted) in [
        ("REKISTERI_CUSTOMERS", "requested"),
        ("REKISTERI_ENRICHMENT", "completed"),
    ] {
        for m in stream_messages(&nats, stream).await.unwrap() {
            let envelope = EventEnvelope::decode_from(&m.payload);
            let matches = match &envelope.payload {
                Some(Payload::EnrichmentRequested(r)) => {
                    wanted == "requested" && r.subject_id == id
                }
                Some(Payload::EnrichmentCompleted(c)) => {
                    wanted == "completed" && c.subject_id == id
                }
                _ => false,
            };
            if matches {
                nats.publish(m.subject.clone(), m.payload.clone())
                    .await
                    .unwrap();
            }
        }
    }
    nats.flush().await.unwrap();
    for (stream, consumer) in [
        ("REKISTERI_CUSTOMERS", "enrichment-requests"),
        ("REKISTERI_ENRICHMENT", "customers-enrichment"),
    ] {
        wait_until(&format!("{consumer} has taken the copies"), async || {
            consumer_done(&nats, stream, consumer).await
        })
        .await;
    }
    // The worker looks every second: give a second request time to have been made.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        prh_calls(&prh).await,
        1,
        "a redelivered request calls no source"
    );
    let updates = stream_messages(&nats, "REKISTERI_CUSTOMERS")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            matches!(EventEnvelope::decode_from(&m.payload).payload,
                Some(Payload::SubjectUpdated(u)) if u.subject_id == id)
        })
        .count();
    assert_eq!(updates, 1, "a redelivered result updates nothing again");
    let provenance = enrichment
        .list_provenance(pb::ListProvenanceRequest {
            subject_id: id.clone(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(provenance.records.len(), 1);

    // A person edits the name: it is no longer the source's.
    let subject = customers
        .update_organisation(cpb::UpdateOrganisationRequest {
            subject_id: id.clone(),
            etag: String::new(),
            organisation: Some(cpb::Organisation {
                name: "Nokia Oyj (pääkonttori)".into(),
                business_id: business("0112038-9"),
                association_number: String::new(),
                addresses: organisation.addresses.clone(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    assert!(
        !subject
            .field_sources
            .iter()
            .any(|s| s.field == "organisation.name"),
        "{:?}",
        subject.field_sources
    );

    // A late result, asked for before that edit (its etag is stale), does not undo it; nor does
    // one fetched for another business ID than the subject's now.
    let late = |business_id: &str, etag: &str| {
        let envelope = EventEnvelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: rekisteri_enrichment::events::COMPLETED_TYPE.into(),
            occurred_at: None,
            source_service: "enrichment".into(),
            actor: None,
            payload: Some(Payload::EnrichmentCompleted(EnrichmentCompleted {
                request_id: uuid::Uuid::now_v7().to_string(),
                subject_id: id.clone(),
                fields: vec![EnrichedField {
                    field: "organisation.name".into(),
                    text: "Vanha Nimi Oy".into(),
                    source: "prh".into(),
                    provenance_id: uuid::Uuid::now_v7().to_string(),
                    register_id: register.clone(),
                    ..Default::default()
                }],
                notes: vec![],
                business_id: business(business_id),
                subject_etag: etag.to_owned(),
            })),
        };
        prost::Message::encode_to_vec(&envelope)
    };
    for payload in [
        late("0112038-9", &created.etag),
        late("2135102-9", &subject.etag),
    ] {
        nats.publish(rekisteri_enrichment::events::COMPLETED, payload.into())
            .await
            .unwrap();
    }
    nats.flush().await.unwrap();
    wait_until("the late results are taken", async || {
        consumer_done(&nats, "REKISTERI_ENRICHMENT", "customers-enrichment").await
    })
    .await;
    let now = customers
        .get_subject(cpb::GetSubjectRequest {
            subject_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    let organisation_now = now.organisation.clone().unwrap();
    assert_eq!(organisation_now.name, "Nokia Oyj (pääkonttori)");
    assert_eq!(now.etag, subject.etag, "nothing changed");

    // The same addresses from the same source again, as a new result: nothing changes, not
    // even the etag.
    let again = EventEnvelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: rekisteri_enrichment::events::COMPLETED_TYPE.into(),
        occurred_at: None,
        source_service: "enrichment".into(),
        actor: None,
        payload: Some(Payload::EnrichmentCompleted(EnrichmentCompleted {
            request_id: uuid::Uuid::now_v7().to_string(),
            subject_id: id.clone(),
            fields: vec![EnrichedField {
                field: "organisation.addresses".into(),
                addresses: organisation_now.addresses.clone(),
                source: "prh".into(),
                provenance_id: uuid::Uuid::now_v7().to_string(),
                register_id: register.clone(),
                ..Default::default()
            }],
            notes: vec![],
            business_id: business("0112038-9"),
            subject_etag: now.etag.clone(),
        })),
    };
    nats.publish(
        rekisteri_enrichment::events::COMPLETED,
        prost::Message::encode_to_vec(&again).into(),
    )
    .await
    .unwrap();
    nats.flush().await.unwrap();
    wait_until("the repeated result is taken", async || {
        consumer_done(&nats, "REKISTERI_ENRICHMENT", "customers-enrichment").await
    })
    .await;
    let after = customers
        .get_subject(cpb::GetSubjectRequest {
            subject_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    assert_eq!(after.etag, now.etag, "the same value again changes nothing");
    assert!(
        after
            .field_sources
            .iter()
            .any(|s| s.field == "organisation.addresses"),
        "an unchanged address list keeps its source through a person's update"
    );

    // An organisation created without a business ID is not enriched; given one later, it is.
    let membership = cpb::RegisterMembership {
        register_id: register.clone(),
        basis: "asiakassuhde".into(),
        start_date: String::new(),
        end_date: String::new(),
    };
    let later = customers
        .create_organisation(cpb::CreateOrganisationRequest {
            organisation: Some(cpb::Organisation {
                name: "Nokia, the other record".into(),
                ..Default::default()
            }),
            memberships: vec![membership],
            billing: None,
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    customers
        .update_organisation(cpb::UpdateOrganisationRequest {
            subject_id: later.subject_id.clone(),
            etag: later.etag.clone(),
            organisation: Some(cpb::Organisation {
                name: "Nokia, the other record".into(),
                business_id: business("0112038-9"),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    wait_until("the business ID given later is enriched", async || {
        let subject = customers
            .get_subject(cpb::GetSubjectRequest {
                subject_id: later.subject_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .subject
            .unwrap();
        subject.organisation.unwrap().name == "Nokia Oyj"
    })
    .await;
}

/// Whether a durable consumer has no message waiting or unacknowledged.
async fn consumer_done(nats: &async_nats::Client, stream: &str, consumer: &str) -> bool {
    let js = async_nats::jetstream::new(nats.clone());
    let Ok(mut stream) = js.get_stream(stream).await else {
        return false;
    };
    let Ok(mut consumer) = stream
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>(consumer)
        .await
    else {
        return false;
    };
    let _ = &mut stream;
    match consumer.info().await {
        Ok(info) => info.num_pending == 0 && info.num_ack_pending == 0,
        Err(_) => false,
    }
}

trait DecodeFrom {
    fn decode_from(bytes: &[u8]) -> Self;
}

impl DecodeFrom for EventEnvelope {
    fn decode_from(bytes: &[u8]) -> Self {
        prost::Message::decode(bytes).expect("an event envelope")
    }
}

async fn lookups_need_a_declaring_register_and_credit_a_purpose(backend: Backend) {
    let prh = prh().await;
    let credit = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/credit-checks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "found": true, "creditClass": 5, "score": 93, "paymentDefaults": []
        })))
        .mount(&credit)
        .await;
    let system = system(backend, &prh, Some(&credit), None).await;
    let (mut catalogue, _, mut enrichment) = clients(&system).await;
    let declares = publish(&mut catalogue, |_| {}).await;
    let silent = publish(&mut catalogue, |sources| {
        sources.retain(|s| s.kind() != cat::DataSourceKind::External)
    })
    .await;

    // A register that declares no such source: refused before any call.
    let refused = enrichment
        .lookup_business(pb::LookupBusinessRequest {
            business_id: business("0112038-9"),
            context: context(&silent),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("does not declare `prh`"),
        "{}",
        refused.message()
    );
    assert_eq!(prh_calls(&prh).await, 0);

    // Bad input: every problem named, nothing asked.
    let invalid = enrichment
        .lookup_business(pb::LookupBusinessRequest {
            business_id: business("0112038-8"),
            context: None,
        })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let fields: Vec<String> = field_violations(&invalid)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["business_id", "context.register_id"]);

    // The declaring register: Nokia as PRH has it, then from the cache.
    let found = enrichment
        .lookup_business(pb::LookupBusinessRequest {
            business_id: business("0112038-9"),
            context: context(&declares),
        })
        .await
        .unwrap()
        .into_inner();
    let b = found.business.unwrap();
    assert_eq!(b.name, "Nokia Oyj");
    assert_eq!(b.status(), pb::BusinessStatus::Active);
    assert_eq!(b.business_line_code, "70100");
    let provenance = found.provenance.unwrap();
    assert_eq!(
        (provenance.source.as_str(), provenance.cached),
        ("prh", false)
    );
    let again = enrichment
        .lookup_business(pb::LookupBusinessRequest {
            business_id: business("0112038-9"),
            context: context(&declares),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(again.provenance.unwrap().cached);
    assert_eq!(prh_calls(&prh).await, 1);
    let unknown = enrichment
        .lookup_business(pb::LookupBusinessRequest {
            business_id: business("2135102-9"),
            context: context(&declares),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!unknown.found && unknown.business.is_none());

    // Credit information without a purpose: refused, and the bureau is not asked.
    let no_purpose = enrichment
        .check_credit(pb::CheckCreditRequest {
            target: Some(pb::check_credit_request::Target::BusinessId(BusinessId {
                value: "0112038-9".into(),
            })),
            purpose: pb::CreditPurpose::Unspecified as i32,
            context: context(&declares),
        })
        .await
        .unwrap_err();
    assert_eq!(no_purpose.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&no_purpose)[0].0, "purpose");
    assert!(credit.received_requests().await.unwrap().is_empty());
    let checked = enrichment
        .check_credit(pb::CheckCreditRequest {
            target: Some(pb::check_credit_request::Target::BusinessId(BusinessId {
                value: "0112038-9".into(),
            })),
            purpose: pb::CreditPurpose::CreditGranting as i32,
            context: context(&declares),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(checked.found);
    assert_eq!((checked.credit_class, checked.score), (Some(5), Some(93)));
    // A person's check is kept under the person: it needs the subject.
    let anonymous = enrichment
        .check_credit(pb::CheckCreditRequest {
            target: Some(pb::check_credit_request::Target::PersonalIdentityCode(
                "131052-308T".into(),
            )),
            purpose: pb::CreditPurpose::CreditGranting as i32,
            context: context(&declares),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&anonymous)[0].0, "context.subject_id");
    assert_eq!(credit.received_requests().await.unwrap().len(), 1);
    // Not declared by the silent register either.
    let refused = enrichment
        .check_credit(pb::CheckCreditRequest {
            target: Some(pb::check_credit_request::Target::BusinessId(BusinessId {
                value: "0112038-9".into(),
            })),
            purpose: pb::CreditPurpose::CreditGranting as i32,
            context: context(&silent),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(credit.received_requests().await.unwrap().len(), 1);
}

struct Adapter(Child);

impl Adapter {
    fn start(port: u16) -> Adapter {
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-adapter"))
            .args([port.to_string().as_str(), ADAPTER_TOKEN])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the example adapter starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "listening");
        Adapter(child)
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn an_adapter_process_plugs_in_over_the_protocol(backend: Backend) {
    let prh = prh().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let adapter = Adapter::start(port);
    let system = system(backend, &prh, None, Some(port)).await;
    let (mut catalogue, _, mut enrichment) = clients(&system).await;
    let register = publish(&mut catalogue, |sources| {
        sources.push(cat::DataSource {
            kind: cat::DataSourceKind::External as i32,
            organisation_name: "Esimerkkipankki Oyj".into(),
            organisation_business_id: None,
            supplies: "Asiakkaan tunnistamistiedot (KYC)".into(),
        })
    })
    .await;
    let lookup = |id: &str| pb::LookupExternalRequest {
        source: "kyc".into(),
        query: [("business_id".to_owned(), id.to_owned())].into(),
        context: context(&register),
    };
    let found = enrichment
        .lookup_external(lookup("0112038-9"))
        .await
        .unwrap()
        .into_inner();
    assert!(found.found);
    assert_eq!(found.fields["kyc_status"], "verified");
    let provenance = found.provenance.unwrap();
    assert_eq!(provenance.source, "kyc");
    assert_eq!(provenance.fields, ["checked_on", "kyc_status"]);
    let sources = enrichment
        .list_sources(pb::ListSourcesRequest {})
        .await
        .unwrap()
        .into_inner()
        .sources;
    let kyc = sources.iter().find(|s| s.name == "kyc").expect("listed");
    assert_eq!(
        (kyc.kind.as_str(), kyc.circuit()),
        ("external", pb::CircuitState::Closed)
    );

    // The adapter goes away: calls fail, the breaker opens after two, and the service stays up.
    drop(adapter);
    for id in ["2135102-9", "0244683-1"] {
        let failed = enrichment.lookup_external(lookup(id)).await.unwrap_err();
        assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    }
    let open = enrichment
        .lookup_external(lookup("2135102-9"))
        .await
        .unwrap_err();
    assert!(
        open.message().contains("failed repeatedly"),
        "{}",
        open.message()
    );
    let kyc_circuit = |sources: Vec<pb::Source>| {
        sources
            .into_iter()
            .find(|s| s.name == "kyc")
            .unwrap()
            .circuit()
    };
    let listed = enrichment
        .list_sources(pb::ListSourcesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kyc_circuit(listed.sources), pb::CircuitState::Open);
    // The service's status says so too, and the service itself stays healthy.
    let mut operations = OperationsServiceClient::with_interceptor(
        system.service("enrichment").channel().await,
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    let status = operations
        .get_status(GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    let kyc = status
        .dependencies
        .iter()
        .find(|d| d.name == "source kyc")
        .expect("the source is reported");
    assert_eq!(kyc.state, "circuit OPEN");
    assert!(!kyc.detail.is_empty());
    assert!(status.database_reachable);
    rekisteri_test_support::wait_until_serving(system.service("enrichment").port).await;
    // Cached answers still come while it is away.
    assert!(
        enrichment
            .lookup_external(lookup("0112038-9"))
            .await
            .unwrap()
            .into_inner()
            .provenance
            .unwrap()
            .cached
    );

    // Back: after the cool-down a probe closes the breaker.
    let _adapter = Adapter::start(port);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pending = enrichment
        .lookup_external(lookup("2135102-9"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pending.fields["kyc_status"], "pending");
    let listed = enrichment
        .list_sources(pb::ListSourcesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kyc_circuit(listed.sources), pb::CircuitState::Closed);
}
