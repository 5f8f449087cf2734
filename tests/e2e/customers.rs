//! The customer service as a CRM uses it, with a real catalogue beside it: registers published in
//! the catalogue, then customers stored in them, over real gRPC and NATS, on both databases.

use prost::Message as _;
use rekisteri_e2e::System;
use rekisteri_platform::auth::BearerToken;
use rekisteri_platform::error::field_violations;
use rekisteri_proto::catalogue::v1 as cat;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::common::v1::{BusinessId, PageRequest, PostalAddress};
use rekisteri_proto::customers::v1 as pb;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use rekisteri_proto::customers::v1::find_subjects_request::By;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests, stream_messages, tokens, wait_for_messages};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::{WAIT, create_and_publish, sample, wait_until};

db_tests!(
    a_crm_keeps_an_organisation_its_contacts_and_a_person,
    invalid_identity_codes_and_business_ids_are_refused_and_nothing_is_written,
    fields_need_a_register_that_declares_them,
    no_identity_code_in_plain_text_anywhere_in_the_database,
    concurrent_updates_have_one_winner,
    registers_are_learnt_from_events_and_subject_events_survive_a_nats_restart_once,
    a_long_history_is_read_in_part_and_exported_whole,
);

type Customers = CustomerServiceClient<InterceptedService<Channel, BearerToken>>;
type Catalogue = CatalogueServiceClient<InterceptedService<Channel, BearerToken>>;

async fn clients(system: &System) -> (Catalogue, Customers) {
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
    )
}

fn member_of(register_id: &str) -> Vec<pb::RegisterMembership> {
    vec![pb::RegisterMembership {
        register_id: register_id.to_owned(),
        basis: "asiakassuhde".into(),
        start_date: String::new(),
        end_date: String::new(),
    }]
}

fn person(given: &str, family: &str) -> pb::Person {
    pb::Person {
        given_names: given.into(),
        family_name: family.into(),
        ..Default::default()
    }
}

async fn create_person(
    customers: &mut Customers,
    register_id: &str,
    person: pb::Person,
) -> Result<pb::Subject, tonic::Status> {
    customers
        .create_person(pb::CreatePersonRequest {
            person: Some(person),
            memberships: member_of(register_id),
            billing: None,
        })
        .await
        .map(|r| r.into_inner().subject.unwrap())
}

async fn find(customers: &mut Customers, by: By) -> Vec<pb::Subject> {
    customers
        .find_subjects(pb::FindSubjectsRequest {
            by: Some(by),
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .subjects
}

async fn get(customers: &mut Customers, subject_id: &str) -> pb::Subject {
    customers
        .get_subject(pb::GetSubjectRequest {
            subject_id: subject_id.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap()
}

/// A valid identity code `DDMMYY<sign><NNN>` with its check character.
fn hetu(first_ten: &str) -> String {
    let digits: String = first_ten
        .chars()
        .enumerate()
        .filter(|(i, _)| *i != 6)
        .map(|(_, c)| c)
        .collect();
    let n: u64 = digits.parse().unwrap();
    let check = b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(n % 31) as usize] as char;
    format!("{first_ten}{check}")
}

async fn a_crm_keeps_an_organisation_its_contacts_and_a_person(backend: Backend) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;

    // An organisation with two contact persons.
    let organisation = customers
        .create_organisation(pb::CreateOrganisationRequest {
            organisation: Some(pb::Organisation {
                name: "Kotisivutaivas Oy".into(),
                business_id: Some(BusinessId {
                    value: "2135102-9".into(),
                }),
                association_number: String::new(),
                addresses: vec![PostalAddress {
                    lines: vec!["Peninkulma 15".into()],
                    postal_code: "90810".into(),
                    post_office: "Kiviniemi".into(),
                    country_code: String::new(),
                }],
            }),
            memberships: member_of(&register),
            billing: None,
        })
        .await
        .expect("an organisation in a published register")
        .into_inner()
        .subject
        .unwrap();
    let mut maija = person("Maija", "Mainio");
    maija.emails = vec!["maija.mainio@kotisivutaivas.fi".into()];
    maija.phones = vec!["044 596 2025".into()];
    let maija = create_person(&mut customers, &register, maija)
        .await
        .unwrap();
    assert_eq!(maija.person.as_ref().unwrap().phones, ["+358445962025"]);
    let mut teppo = person("Teppo", "Tekninen");
    teppo.phones = vec!["06 2477 100".into()];
    let teppo = create_person(&mut customers, &register, teppo)
        .await
        .unwrap();
    for (who, role) in [
        (&maija, pb::ContactRole::DecisionMaker),
        (&teppo, pb::ContactRole::Technical),
    ] {
        customers
            .link_contact_person(pb::LinkContactPersonRequest {
                organisation_id: organisation.subject_id.clone(),
                person_id: who.subject_id.clone(),
                role: role as i32,
            })
            .await
            .expect("a contact person");
    }

    // A person customer with an identity code.
    let mut matti = person("Matti", "Meikäläinen");
    matti.personal_identity_code = "131052-308T".into();
    matti.emails = vec!["Matti.Meikalainen@Example.FI".into()];
    let matti = create_person(&mut customers, &register, matti)
        .await
        .unwrap();
    let held = matti.person.as_ref().unwrap();
    assert!(held.has_personal_identity_code);
    assert!(
        held.personal_identity_code.is_empty(),
        "the code is write-only"
    );
    assert_eq!(held.date_of_birth, "", "not given, not invented");
    // One person, one subject: the same code again (any letter case) is refused, naming the
    // subject that holds it and never the code.
    let mut twin = person("Matti", "Toinen");
    twin.personal_identity_code = "131052-308t".into();
    let twice = create_person(&mut customers, &register, twin)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists, "{twice:?}");
    assert!(
        !twice.message().contains(&matti.subject_id),
        "a writer learns no holder without the logged search: {twice:?}"
    );
    assert!(
        !twice.message().to_lowercase().contains("131052"),
        "{twice:?}"
    );

    // Found again by business ID, email, identity code, phone and name.
    let found = find(
        &mut customers,
        By::BusinessId(BusinessId {
            value: "2135102-9".into(),
        }),
    )
    .await;
    assert_eq!(found.len(), 1);
    let contacts: Vec<(String, i32)> = found[0]
        .contacts
        .iter()
        .map(|c| (c.person_name.clone(), c.role))
        .collect();
    assert_eq!(
        contacts,
        [
            ("Maija Mainio".into(), pb::ContactRole::DecisionMaker as i32),
            ("Teppo Tekninen".into(), pb::ContactRole::Technical as i32)
        ]
    );
    let by_email = find(
        &mut customers,
        By::Email("matti.meikalainen@example.fi".into()),
    )
    .await;
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].subject_id, matti.subject_id);
    let by_code = find(
        &mut customers,
        By::PersonalIdentityCode("131052-308t".into()),
    )
    .await;
    assert_eq!(by_code.len(), 1);
    assert_eq!(by_code[0].subject_id, matti.subject_id);
    assert!(
        by_code[0]
            .person
            .as_ref()
            .unwrap()
            .personal_identity_code
            .is_empty()
    );
    let by_phone = find(&mut customers, By::Phone("+358 44 596 2025".into())).await;
    assert_eq!(by_phone[0].subject_id, maija.subject_id);
    let by_name = find(&mut customers, By::NamePrefix("MEIK".into())).await;
    assert_eq!(by_name.len(), 1);

    // A direct-marketing prohibition is always kept; a consent needs a register declaring it.
    // When it was given is kept to the microsecond, as given.
    let given_time = prost_types::Timestamp {
        seconds: 1_773_480_413,
        nanos: 589_793_000,
    };
    let marketing = customers
        .set_marketing_preferences(one_preference(
            &matti.subject_id,
            pb::Channel::Email,
            pb::Preference::Prohibited,
            Some(given_time),
            "phone call to customer service",
        ))
        .await
        .expect("a prohibition")
        .into_inner()
        .subject
        .unwrap();
    assert_eq!(marketing.marketing.len(), 1);
    assert_eq!(
        marketing.marketing[0].preference,
        pb::Preference::Prohibited as i32
    );
    let read = get(&mut customers, &matti.subject_id).await;
    assert_eq!(read.marketing[0].given_time, Some(given_time));
    assert_eq!(
        read.marketing[0].given_how,
        "phone call to customer service"
    );
    let consent = customers
        .set_marketing_preferences(one_preference(
            &matti.subject_id,
            pb::Channel::Sms,
            pb::Preference::Consented,
            None,
            "web form",
        ))
        .await
        .unwrap_err();
    assert_eq!(consent.code(), Code::FailedPrecondition, "{consent:?}");
    assert!(consent.message().contains("marketing"), "{consent:?}");
    let ancient = customers
        .set_marketing_preferences(one_preference(
            &matti.subject_id,
            pb::Channel::Post,
            pb::Preference::Prohibited,
            Some(prost_types::Timestamp {
                seconds: -3_000_000_000,
                nanos: 0,
            }),
            "a letter from 1874",
        ))
        .await
        .unwrap_err();
    assert_eq!(ancient.code(), Code::InvalidArgument, "{ancient:?}");
    assert!(ancient.message().contains("before 1900"), "{ancient:?}");

    // Export (logged, with the code) and erasure.
    let export = customers
        .export_subject(pb::ExportSubjectRequest {
            subject_id: matti.subject_id.clone(),
            reason: "access request 2026-17".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let exported = export.subject.unwrap();
    assert_eq!(
        exported.person.as_ref().unwrap().personal_identity_code,
        "131052-308T"
    );
    assert_eq!(exported.marketing.len(), 1);
    customers
        .erase_subject(pb::EraseSubjectRequest {
            subject_id: matti.subject_id.clone(),
            etag: String::new(),
            reason: "erasure request 2026-18".into(),
        })
        .await
        .expect("erased");
    assert!(
        find(
            &mut customers,
            By::PersonalIdentityCode("131052-308T".into())
        )
        .await
        .is_empty()
    );
    assert!(
        find(
            &mut customers,
            By::Email("matti.meikalainen@example.fi".into())
        )
        .await
        .is_empty()
    );
    assert!(
        find(&mut customers, By::NamePrefix("meik".into()))
            .await
            .is_empty()
    );
    let gone = customers
        .get_subject(pb::GetSubjectRequest {
            subject_id: matti.subject_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let log = customers
        .list_access_log(pb::ListAccessLogRequest {
            subject_id: matti.subject_id.clone(),
            page: Some(PageRequest {
                page_size: 10,
                page_token: String::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<i32> = log.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            pb::AccessKind::Erase as i32,
            pb::AccessKind::Export as i32,
            pb::AccessKind::FindByIdentityCode as i32,
        ],
        "newest first"
    );
    assert_eq!(log[1].reason, "access request 2026-17");
    assert_eq!(log[1].actor.as_ref().unwrap().subject, "admin");
    // The search by the erased person's code found no one, and is logged all the same.
    let everyone = customers
        .list_access_log(pb::ListAccessLogRequest {
            subject_id: String::new(),
            page: Some(PageRequest {
                page_size: 10,
                page_token: String::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        everyone
            .iter()
            .any(|e| e.kind == pb::AccessKind::FindByIdentityCode as i32
                && e.subject_id.is_empty()
                && e.reason == "search (no match)"),
        "{everyone:?}"
    );

    // The events name subjects and changed fields, never the data.
    let nats = system.nats.client().await;
    // 4 created (the organisation with its enrichment request), 2 contact links, 1 marketing
    // change, 1 erasure.
    wait_for_messages(&nats, "REKISTERI_CUSTOMERS", 9, WAIT).await;
    let messages = stream_messages(&nats, "REKISTERI_CUSTOMERS").await.unwrap();
    let mut kinds = Vec::new();
    for m in &messages {
        for secret in [
            "131052",
            "Meik",
            "Matti",
            "Maija",
            "meikalainen",
            "445962025",
            "Peninkulma",
        ] {
            assert!(
                !String::from_utf8_lossy(&m.payload).contains(secret),
                "an event carries `{secret}`"
            );
        }
        let envelope = EventEnvelope::decode(m.payload.clone()).unwrap();
        kinds.push(match envelope.payload.unwrap() {
            Payload::SubjectCreated(c) => format!("created {}", c.kind),
            Payload::SubjectUpdated(u) => format!("updated {}", u.changed_fields.join(",")),
            Payload::MarketingPreferencesChanged(p) => {
                format!("marketing prohibited={}", p.prohibited_channels.join(","))
            }
            Payload::SubjectErased(e) => {
                assert_eq!(e.subject_id, matti.subject_id);
                "erased".into()
            }
            Payload::EnrichmentRequested(r) => {
                format!(
                    "enrichment requested {}",
                    r.business_id.unwrap_or_default().value
                )
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        kinds,
        [
            "created organisation",
            "enrichment requested 2135102-9",
            "created person",
            "created person",
            "updated contacts",
            "updated contacts",
            "created person",
            "marketing prohibited=email",
            "erased"
        ]
    );
}

async fn invalid_identity_codes_and_business_ids_are_refused_and_nothing_is_written(
    backend: Backend,
) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;

    // Every century sign, including those in use since 2023, gives a valid code.
    for sign in [
        '+', '-', 'U', 'V', 'W', 'X', 'Y', 'A', 'B', 'C', 'D', 'E', 'F',
    ] {
        let mut p = person("Testi", &format!("Vuosisata{sign}"));
        p.personal_identity_code = hetu(&format!("010203{sign}123"));
        create_person(&mut customers, &register, p)
            .await
            .unwrap_or_else(|e| panic!("century sign {sign}: {e:?}"));
    }

    let refused = [
        ("131052-308U", "check character"),
        ("310252-308T", "date"),
        ("290223A1234", "date"),
        ("290223A12", "eleven"),
        (&*hetu("010203G123"), "century"),
        (&*hetu("010203-001"), "individual number"),
        (&*hetu("010203-950"), "temporary"),
        ("13105ä-308T", "eleven"),
        ("１３１０５２-308T", "eleven"),
        ("131052 308T", "century"),
    ]
    .map(|(code, why)| (code.to_owned(), why));
    for (code, why) in &refused {
        let mut p = person("Väärä", "Tunnus");
        p.personal_identity_code = code.clone();
        p.phones = vec!["12".into()];
        let err = create_person(&mut customers, &register, p)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{code}: {err:?}");
        let fields = field_violations(&err);
        let code_field = fields
            .iter()
            .find(|(f, _)| f == "person.personal_identity_code")
            .unwrap_or_else(|| panic!("{code}: {fields:?}"));
        assert!(code_field.1.contains(why), "{code}: {}", code_field.1);
        assert!(
            !err.message().contains(code.as_str()),
            "the code is not echoed"
        );
        assert!(
            fields.iter().any(|(f, _)| f == "person.phones[0]"),
            "every invalid field at once: {fields:?}"
        );
    }
    for bad in ["2135102-8", "21351029", "ÅÄÖ"] {
        let err = customers
            .create_organisation(pb::CreateOrganisationRequest {
                organisation: Some(pb::Organisation {
                    name: "Väärä Oy".into(),
                    business_id: Some(BusinessId { value: bad.into() }),
                    ..Default::default()
                }),
                memberships: member_of(&register),
                billing: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad}");
        assert_eq!(field_violations(&err)[0].0, "organisation.business_id");
    }
    // Nothing of the refused writes was stored.
    for prefix in ["Tunnus", "Väärä"] {
        assert!(
            find(&mut customers, By::NamePrefix(prefix.into()))
                .await
                .is_empty()
        );
    }
    assert_eq!(
        find(&mut customers, By::NamePrefix("Vuosisata".into()))
            .await
            .len(),
        13
    );
}

async fn fields_need_a_register_that_declares_them(backend: Backend) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    // A register that keeps names and contact details, but no identity codes.
    let mut content = sample();
    content.name = "Uutiskirjeen tilaajat".into();
    content
        .data_categories
        .retain(|c| c.key == "contact_details");
    let id = catalogue
        .create_register(cat::CreateRegisterRequest {
            content: Some(content),
        })
        .await
        .unwrap()
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
        .unwrap();

    let mut p = person("Liisa", "Lukija");
    p.emails = vec!["liisa@example.fi".into()];
    let liisa = create_person(&mut customers, &id, p.clone())
        .await
        .expect("declared");
    p.personal_identity_code = "131052-308T".into();
    let err = create_person(&mut customers, &id, p.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("person.personal_identity_code"),
        "{err:?}"
    );
    assert!(
        err.message().contains(&id),
        "names the register checked: {err:?}"
    );
    assert!(err.message().contains("Uutiskirjeen tilaajat"), "{err:?}");
    // The same, for programs: one PreconditionFailure violation per refused field.
    let refused: Vec<(String, String)> = rekisteri_platform::error::precondition_violations(&err)
        .into_iter()
        .map(|(kind, subject, _)| (kind, subject))
        .collect();
    assert_eq!(
        refused,
        [(
            "DATA_CATEGORY".to_owned(),
            "person.personal_identity_code".to_owned()
        )]
    );
    let note = customers
        .add_note(pb::AddNoteRequest {
            subject_id: liisa.subject_id.clone(),
            text: "Soitti ja kysyi laskusta".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(note.code(), Code::FailedPrecondition);
    assert!(note.message().contains("customer_history"), "{note:?}");

    // Moving a person into a register means that register must declare what the person already
    // holds: here the identity code kept from the first register.
    let full = create_and_publish(&mut catalogue).await;
    let mut k = person("Kalle", "Koodillinen");
    k.personal_identity_code = hetu("010203-123");
    let kalle = create_person(&mut customers, &full, k.clone())
        .await
        .unwrap();
    k.personal_identity_code = String::new(); // keep the stored code
    let moved = customers
        .update_person(pb::UpdatePersonRequest {
            subject_id: kalle.subject_id.clone(),
            etag: kalle.etag.clone(),
            person: Some(k.clone()),
            remove_personal_identity_code: false,
            memberships: member_of(&id),
            billing: None,
        })
        .await
        .unwrap_err();
    assert_eq!(moved.code(), Code::FailedPrecondition, "{moved:?}");
    assert!(
        moved
            .message()
            .contains("person.personal_identity_code (held)"),
        "{moved:?}"
    );
    // Removing the code in the same update makes the move allowed.
    customers
        .update_person(pb::UpdatePersonRequest {
            subject_id: kalle.subject_id.clone(),
            etag: kalle.etag.clone(),
            person: Some(k),
            remove_personal_identity_code: true,
            memberships: member_of(&id),
            billing: None,
        })
        .await
        .expect("moved without the code");

    // A membership that has ended allows nothing: not a new subject, not a note on one whose
    // only membership ends.
    let mut former = member_of(&full);
    former[0].start_date = "2020-01-01".into();
    former[0].end_date = "2021-12-31".into();
    let ended = customers
        .create_person(pb::CreatePersonRequest {
            person: Some(person("Entinen", "Asiakas")),
            memberships: former.clone(),
            billing: None,
        })
        .await
        .unwrap_err();
    assert_eq!(ended.code(), Code::FailedPrecondition, "{ended:?}");
    // Time passes: the membership of a subject ends (here by its end date set in the database).
    let leaving = create_person(&mut customers, &full, person("Lähtevä", "Asiakas"))
        .await
        .unwrap();
    let index = system
        .services
        .iter()
        .position(|s| s.entry.name() == "customers")
        .unwrap();
    let db = sea_orm::Database::connect(system.databases[index].url.as_str())
        .await
        .unwrap();
    use sea_orm::ConnectionTrait as _;
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE memberships SET end_date = '2021-12-31' WHERE subject_id = $1"
            }
            _ => "UPDATE memberships SET end_date = '2021-12-31' WHERE subject_id = ?",
        },
        [leaving.subject_id.clone().into()],
    ))
    .await
    .unwrap();
    let late_note = customers
        .add_note(pb::AddNoteRequest {
            subject_id: leaving.subject_id.clone(),
            text: "Soitti asiakkuuden päätyttyä".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(late_note.code(), Code::FailedPrecondition, "{late_note:?}");

    // A register that is not in the catalogue, or not published.
    let unknown = create_person(
        &mut customers,
        &uuid::Uuid::now_v7().to_string(),
        person("Eino", "Ei"),
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.code(), Code::FailedPrecondition, "{unknown:?}");
    assert!(
        find(&mut customers, By::NamePrefix("Ei".into()))
            .await
            .is_empty()
    );

    // Retired in the catalogue: the service hears of it and stores nothing new there.
    catalogue
        .retire_register(cat::RetireRegisterRequest {
            register_id: id.clone(),
            reason: "Uutiskirje lopetettu".into(),
            etag: String::new(),
        })
        .await
        .unwrap();
    wait_until(
        "the customer service has heard of the retirement",
        async || {
            let mut p = person("Myöhäinen", "Tilaaja");
            p.emails = vec!["myohainen@example.fi".into()];
            match create_person(&mut customers, &id, p).await {
                Err(e) => {
                    assert_eq!(e.code(), Code::FailedPrecondition);
                    assert!(e.message().contains("retired"), "{e:?}");
                    true
                }
                Ok(created) => {
                    // Too early: undo, and look again.
                    customers
                        .erase_subject(pb::EraseSubjectRequest {
                            subject_id: created.subject_id,
                            etag: String::new(),
                            reason: "test".into(),
                        })
                        .await
                        .unwrap();
                    false
                }
            }
        },
    )
    .await;
}

async fn no_identity_code_in_plain_text_anywhere_in_the_database(backend: Backend) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;
    let code = "131052-308T";
    let mut p = person("Matti", "Meikäläinen");
    p.personal_identity_code = code.into();
    let matti = create_person(&mut customers, &register, p).await.unwrap();
    customers
        .export_subject(pb::ExportSubjectRequest {
            subject_id: matti.subject_id.clone(),
            reason: "check".into(),
        })
        .await
        .unwrap();
    let index = system
        .services
        .iter()
        .position(|s| s.entry.name() == "customers")
        .unwrap();
    let url = &system.databases[index].url;
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let backend_kind = db.get_database_backend();
    let tables_sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        }
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend_kind, tables_sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    assert!(tables.contains(&"subjects".to_string()));
    let mut rows = 0;
    for table in &tables {
        let sql = match backend {
            Backend::Sqlite => format!("SELECT * FROM \"{table}\""),
            Backend::Postgres => format!("SELECT t::text AS row FROM \"{table}\" t"),
        };
        for row in db
            .query_all_raw(Statement::from_string(backend_kind, sql))
            .await
            .unwrap()
        {
            rows += 1;
            let text = match backend {
                Backend::Postgres => row.try_get::<String>("", "row").unwrap(),
                // Every column, whatever its type, as text or bytes.
                Backend::Sqlite => (0..row.column_names().len())
                    .map(|i| {
                        row.try_get_by_index::<Option<String>>(i)
                            .ok()
                            .flatten()
                            .or_else(|| {
                                row.try_get_by_index::<Option<Vec<u8>>>(i)
                                    .ok()
                                    .flatten()
                                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                            })
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            assert!(!text.contains("131052"), "{table} holds the code: {text}");
            // PostgreSQL prints binary columns (the outbox payloads, sealed codes) as hex.
            assert!(
                !text.contains(&hex::encode("131052")),
                "{table} holds the code in a binary column: {text}"
            );
        }
    }
    assert!(rows > 5, "the scan saw the rows ({rows})");
    if backend == Backend::Sqlite {
        // The files themselves, write-ahead log included.
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        for file in [path.clone(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                assert!(
                    !bytes.windows(6).any(|w| w == b"131052"),
                    "{file} holds the code"
                );
            }
        }
    }
}

async fn concurrent_updates_have_one_winner(backend: Backend) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;
    let created = create_person(&mut customers, &register, person("Kaisa", "Kilpailija"))
        .await
        .unwrap();
    let shared = customers.clone();
    let update = |given: &str| {
        let mut client = shared.clone();
        let request = pb::UpdatePersonRequest {
            subject_id: created.subject_id.clone(),
            etag: created.etag.clone(),
            person: Some(person(given, "Kilpailija")),
            remove_personal_identity_code: false,
            memberships: vec![],
            billing: None,
        };
        async move { client.update_person(request).await }
    };
    let (a, b) = tokio::join!(update("Kaisa A"), update("Kaisa B"));
    let (winner, loser) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w.into_inner().subject.unwrap(), l),
        (a, b) => panic!("expected one winner: {a:?} {b:?}"),
    };
    assert_eq!(loser.code(), Code::Aborted, "{loser:?}");
    let now = get(&mut customers, &created.subject_id).await;
    assert_eq!(
        now.person.unwrap().given_names,
        winner.person.unwrap().given_names,
        "the loser changed nothing"
    );
    // The stale etag stays stale.
    let again = update("Kaisa C").await.unwrap_err();
    assert_eq!(again.code(), Code::Aborted);

    // Writes that carry no etag (notes) wait for each other instead of failing.
    let notes = (0..8).map(|n| {
        let mut customers = customers.clone();
        let subject_id = created.subject_id.clone();
        async move {
            customers
                .add_note(pb::AddNoteRequest {
                    subject_id,
                    text: format!("Rinnakkainen muistiinpano {n}"),
                })
                .await
        }
    });
    for added in futures::future::join_all(notes).await {
        added.expect("a note without an etag is never ABORTED");
    }
    let after = get(&mut customers, &created.subject_id).await;
    assert_eq!(after.notes_total, 8);
}

async fn registers_are_learnt_from_events_and_subject_events_survive_a_nats_restart_once(
    backend: Backend,
) {
    let mut system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;
    // With the catalogue gone (once its event is out), the only way to know the register is the
    // published event.
    wait_for_messages(
        &system.nats.client().await,
        rekisteri_catalogue::events::STREAM.name,
        1,
        WAIT,
    )
    .await;
    let index = system
        .services
        .iter()
        .position(|s| s.entry.name() == "catalogue")
        .unwrap();
    system.services[index].stop().await;
    let mut first = None;
    wait_until(
        "the register is learnt from the catalogue's event",
        async || match create_person(&mut customers, &register, person("Ensi", "Asiakas")).await {
            Ok(created) => {
                first = Some(created.subject_id);
                true
            }
            Err(e) => {
                assert_eq!(e.code(), Code::Unavailable, "{e:?}");
                false
            }
        },
    )
    .await;
    let nats = system.nats.client().await;
    wait_for_messages(&nats, "REKISTERI_CUSTOMERS", 1, WAIT).await;
    drop(nats);

    // NATS goes away; writes are still acknowledged, their events wait in the outbox.
    system.nats.stop().await;
    let mut expected = vec![first.unwrap()];
    for i in 0..3 {
        let created = create_person(
            &mut customers,
            &register,
            person("Katko", &format!("Asiakas {i}")),
        )
        .await
        .expect("acknowledged while NATS is away");
        expected.push(created.subject_id);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    system.nats.restart().await;

    let nats = system.nats.client().await;
    wait_for_messages(&nats, "REKISTERI_CUSTOMERS", 4, WAIT).await;
    // The relay polls again meanwhile; nothing more may arrive.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let messages = stream_messages(&nats, "REKISTERI_CUSTOMERS").await.unwrap();
    let created: Vec<String> = messages
        .iter()
        .map(
            |m| match EventEnvelope::decode(m.payload.clone()).unwrap().payload {
                Some(Payload::SubjectCreated(c)) => c.subject_id,
                other => panic!("unexpected {other:?}"),
            },
        )
        .collect();
    assert_eq!(created, expected, "every creation once, in order");
}

/// A long history: reads carry the latest 100 notes and the count, the export all of them.
async fn a_long_history_is_read_in_part_and_exported_whole(backend: Backend) {
    let system = System::start(backend).await;
    let (mut catalogue, mut customers) = clients(&system).await;
    let register = create_and_publish(&mut catalogue).await;
    let subject = create_person(&mut customers, &register, person("Pitkä", "Historia"))
        .await
        .unwrap();
    for n in 1..=102 {
        customers
            .add_note(pb::AddNoteRequest {
                subject_id: subject.subject_id.clone(),
                text: format!("Yhteydenotto {n}"),
            })
            .await
            .unwrap();
    }
    let read = get(&mut customers, &subject.subject_id).await;
    assert_eq!((read.notes.len(), read.notes_total), (100, 102));
    assert_eq!(
        read.notes[0].text, "Yhteydenotto 3",
        "the latest, oldest first"
    );
    assert_eq!(read.notes[99].text, "Yhteydenotto 102");
    let everything = customers
        .export_subject(pb::ExportSubjectRequest {
            subject_id: subject.subject_id.clone(),
            reason: "access request 2026-17, notes".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .subject
        .unwrap();
    assert_eq!(everything.notes.len(), 102);

    // Paging a find: a page of one, then the last page, which says it is the last.
    let other = create_person(&mut customers, &register, person("Pitkä", "Historiakas"))
        .await
        .unwrap();
    let mut pages = Vec::new();
    let mut token = String::new();
    for _ in 0..3 {
        let answer = customers
            .find_subjects(pb::FindSubjectsRequest {
                by: Some(By::NamePrefix("histori".into())),
                page: Some(PageRequest {
                    page_size: 1,
                    page_token: token.clone(),
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let page = answer.page.unwrap();
        assert_eq!(page.total_size, 2);
        pages.push(
            answer
                .subjects
                .iter()
                .map(|s| s.subject_id.clone())
                .collect::<Vec<_>>(),
        );
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut both = [subject.subject_id.clone(), other.subject_id.clone()];
    both.sort();
    assert_eq!(
        pages,
        [vec![both[0].clone()], vec![both[1].clone()]],
        "two pages, the second one the last"
    );
}

/// A marketing choice on one channel, given at `given_time` (`None`: now) and `how`.
fn one_preference(
    subject_id: &str,
    channel: pb::Channel,
    preference: pb::Preference,
    given_time: Option<prost_types::Timestamp>,
    how: &str,
) -> pb::SetMarketingPreferencesRequest {
    pb::SetMarketingPreferencesRequest {
        subject_id: subject_id.to_owned(),
        etag: String::new(),
        preferences: vec![pb::MarketingPreference {
            channel: channel as i32,
            preference: preference as i32,
            given_time,
            given_how: how.into(),
        }],
        interests: vec![],
        replace_interests: false,
    }
}
