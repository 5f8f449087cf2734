//! The disclosure log with the catalogue and the customer service beside it, over real gRPC and
//! NATS, on both databases: classification against the register's declarations, batches all or
//! nothing, proofs checked by a verifier written here from the RFC (not the service's code),
//! tampering in the database detected and named, the analysts' stream once per entry across a
//! NATS restart, and erasure that keeps the log verifiable.

use std::collections::HashMap;

use futures::StreamExt as _;
use prost::Message as _;
use rekisteri_disclosures::audit::{self, SavedCheckpoint};
use rekisteri_e2e::System;
use rekisteri_platform::auth::BearerToken;
use rekisteri_platform::error::field_violations;
use rekisteri_proto::catalogue::v1 as cat;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::customers::v1 as cust;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::disclosures::v1::disclosure_service_client::DisclosureServiceClient;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use rekisteri_test_support::{Backend, db_tests, stream_messages, tokens, wait_for_messages};
use sea_orm::ConnectionTrait as _;
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::{WAIT, sample};

db_tests!(
    a_thousand_disclosures_are_logged_streamed_once_and_verified,
    tampering_in_the_database_is_detected_and_named,
    a_batch_is_all_or_nothing,
    erasure_unlinks_the_subject_and_the_log_still_verifies,
    a_new_signing_key_keeps_trusting_the_old_checkpoints,
    verification_and_signing_hold_while_recording_goes_on,
    concurrent_batches_keep_their_own_outcomes,
);

type Disclosures = DisclosureServiceClient<InterceptedService<Channel, BearerToken>>;

struct World {
    system: System,
    disclosures: Disclosures,
    register: String,
    subjects: Vec<String>,
}

/// The system, a register that declares a regular disclosure to a debt collector and a
/// safeguarded transfer to the US, and three customers in it.
async fn world(backend: Backend) -> World {
    let system = System::start(backend).await;
    let bearer = || BearerToken::new(tokens::ADMIN).unwrap();
    let mut catalogue = CatalogueServiceClient::with_interceptor(
        system.service("catalogue").channel().await,
        bearer(),
    );
    let mut content = sample();
    content.disclosures.push(cat::Disclosure {
        recipient: "Perintätoimisto Saatava Oy (2135102-9)".into(),
        purpose: "Saatavien perintä".into(),
        legal_basis: cat::LegalBasis::Contract as i32,
    });
    content.transfers_outside_eea = cat::TransfersOutsideEea::Some as i32;
    content.transfers = vec![cat::ThirdCountryTransfer {
        country_code: "US".into(),
        safeguard: cat::TransferSafeguard::StandardContractualClauses as i32,
        description: "Sähköpostipalvelun tarjoaja".into(),
    }];
    let register = catalogue
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
            register_id: register.clone(),
            expected_version: 0,
            etag: String::new(),
        })
        .await
        .expect("publish");
    let mut customers = CustomerServiceClient::with_interceptor(
        system.service("customers").channel().await,
        bearer(),
    );
    let mut subjects = Vec::new();
    for name in ["Aino", "Eino", "Iines"] {
        let subject = customers
            .create_person(cust::CreatePersonRequest {
                person: Some(cust::Person {
                    given_names: name.into(),
                    family_name: "Luovutettu".into(),
                    ..Default::default()
                }),
                memberships: vec![cust::RegisterMembership {
                    register_id: register.clone(),
                    basis: "asiakassuhde".into(),
                    ..Default::default()
                }],
                billing: None,
            })
            .await
            .expect("a customer")
            .into_inner()
            .subject
            .unwrap();
        subjects.push(subject.subject_id);
    }
    let disclosures = DisclosureServiceClient::with_interceptor(
        system.service("disclosures").channel().await,
        bearer(),
    );
    World {
        system,
        disclosures,
        register,
        subjects,
    }
}

impl World {
    fn disclosure(&self, recipient: &str, country: &str, subjects: &[usize]) -> pb::Disclosure {
        pb::Disclosure {
            recipient: Some(pb::Recipient {
                name: recipient.into(),
                business_id: String::new(),
                country_code: country.into(),
            }),
            subject_ids: subjects.iter().map(|i| self.subjects[*i].clone()).collect(),
            register_id: self.register.clone(),
            register_version: 1,
            data_categories: vec!["contact_details".into()],
            purpose: "Saatavien perintä".into(),
            legal_basis: cat::LegalBasis::Contract as i32,
            channel: pb::Channel::FileTransfer as i32,
            disclosed_time: None,
            disclosure_id: String::new(),
        }
    }

    async fn record(
        &mut self,
        batch: Vec<pb::Disclosure>,
    ) -> Result<Vec<pb::LogEntry>, tonic::Status> {
        self.disclosures
            .record_disclosures(pb::RecordDisclosuresRequest { disclosures: batch })
            .await
            .map(|r| r.into_inner().entries)
    }

    async fn checkpoint(&mut self) -> pb::SignedCheckpoint {
        self.disclosures
            .create_checkpoint(pb::CreateCheckpointRequest {})
            .await
            .unwrap()
            .into_inner()
            .checkpoint
            .unwrap()
    }

    async fn verify(&mut self) -> pb::VerifyLogResponse {
        self.disclosures
            .verify_log(pb::VerifyLogRequest {})
            .await
            .unwrap()
            .into_inner()
    }

    async fn database(&self) -> sea_orm::DatabaseConnection {
        let index = self
            .system
            .services
            .iter()
            .position(|s| s.entry.name() == "disclosures")
            .unwrap();
        sea_orm::Database::connect(self.system.databases[index].url.as_str())
            .await
            .unwrap()
    }

    /// Two entries exchange their sequence numbers (a reordering done in the database).
    async fn swap_sequences(&self, a: i64, b: i64) {
        self.sql(&format!(
            "UPDATE entries SET sequence = -1 WHERE sequence = {a}"
        ))
        .await;
        self.sql(&format!(
            "UPDATE entries SET sequence = {a} WHERE sequence = {b}"
        ))
        .await;
        self.sql(&format!(
            "UPDATE entries SET sequence = {b} WHERE sequence = -1"
        ))
        .await;
    }

    async fn sql(&self, statement: &str) {
        let db = self.database().await;
        db.execute_unprepared(statement).await.unwrap();
        db.close().await.unwrap();
    }
}

// ----- an independent verifier: RFC 6962 / 9162 written out here, sharing no code -----

fn leaf_hash(data: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(data)
        .finalize()
        .into()
}

fn node_hash(l: &[u8], r: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .into()
}

/// MTH(D[n]) by its recursive definition.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// Rebuilds the root from a leaf and its audit path the way the RFC 6962 §2.1.1 recursion
/// builds the path: returns the root the proof implies.
fn root_from_path(index: usize, size: usize, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if size == 1 {
        return path.is_empty().then_some(leaf);
    }
    let k = size.next_power_of_two() / 2;
    let (last, rest) = path.split_last()?;
    if index < k {
        Some(node_hash(&root_from_path(index, k, leaf, rest)?, last))
    } else {
        Some(node_hash(
            last,
            &root_from_path(index - k, size - k, leaf, rest)?,
        ))
    }
}

/// The leaf bytes as the proto documents them: the entry's encoding with leaf_hash empty.
fn leaf_of(entry: &pb::LogEntry) -> [u8; 32] {
    let mut bare = entry.clone();
    bare.leaf_hash.clear();
    leaf_hash(&bare.encode_to_vec())
}

fn checkpoint_signature_holds(c: &pb::SignedCheckpoint) -> bool {
    use ed25519_dalek::Verifier as _;
    let text = format!(
        "rekisteri-disclosures/v1\n{}\n{}\n{}\n",
        c.tree_size,
        base64_encode(&c.root_hash),
        c.time.as_ref().unwrap().seconds
    );
    assert_eq!(
        c.signed_text,
        text.as_bytes(),
        "the signed text is the documented one"
    );
    let key = ed25519_dalek::VerifyingKey::from_bytes(c.public_key.as_slice().try_into().unwrap())
        .unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&c.signature).unwrap();
    key.verify(text.as_bytes(), &signature).is_ok()
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn all_entries(d: &mut Disclosures, size: u64) -> Vec<pb::LogEntry> {
    let mut all = Vec::new();
    while (all.len() as u64) < size {
        let page = d
            .get_entries(pb::GetEntriesRequest {
                start: all.len() as u64,
                count: 1000,
            })
            .await
            .unwrap()
            .into_inner()
            .entries;
        assert!(!page.is_empty());
        all.extend(page);
    }
    all
}

fn flags(entry: &pb::LogEntry) -> Vec<pb::Flag> {
    entry
        .classification
        .as_ref()
        .unwrap()
        .flags
        .iter()
        .map(|f| pb::Flag::try_from(*f).unwrap())
        .collect()
}

async fn a_thousand_disclosures_are_logged_streamed_once_and_verified(backend: Backend) {
    let mut w = world(backend).await;
    let nats = w.system.nats.client().await;

    // An analyst's durable consumer, created before anything is recorded.
    let js = async_nats::jetstream::new(nats.clone());
    let stream = wait_for_stream(&js).await;
    let analyst = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("analyst".into()),
            filter_subject: "rekisteri.disclosures.recorded".into(),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();

    let before = w.checkpoint().await;
    assert_eq!(before.tree_size, 0);
    let mut recorded = Vec::new();
    for batch in 0..10 {
        let disclosures: Vec<_> = (0..100)
            .map(|i| w.disclosure("Perintätoimisto Saatava Oy", "FI", &[(batch * 100 + i) % 3]))
            .collect();
        if batch == 5 {
            // A NATS restart in the middle: the outbox holds the events until it is back.
            w.system.nats.restart().await;
        }
        recorded.extend(w.record(disclosures).await.expect("a batch of 100"));
    }
    assert_eq!(recorded.len(), 1000);
    for (i, e) in recorded.iter().enumerate() {
        assert_eq!(e.sequence, i as u64, "consecutive sequence numbers");
        assert!(
            e.classification.as_ref().unwrap().regular,
            "declared recipient"
        );
        assert!(flags(e).is_empty());
    }
    // The recorder is not told the pseudonyms (it would keep the link erasure destroys); the log
    // holds them: the same subject keeps one pseudonym, different subjects differ.
    assert!(recorded.iter().all(|e| e.subject_pseudonyms.is_empty()));
    let logged = all_entries(&mut w.disclosures, 4).await;
    assert_eq!(logged[0].subject_pseudonyms, logged[3].subject_pseudonyms);
    assert_ne!(logged[0].subject_pseudonyms, logged[1].subject_pseudonyms);
    assert_eq!(logged[0].subject_pseudonyms[0].len(), 32, "128 bits, hex");

    // An irregular disclosure and a transfer outside the EU/EEA with no declared safeguard.
    let odd = w
        .record(vec![
            w.disclosure("Markkinointi Oy", "FI", &[0]),
            w.disclosure("Perintätoimisto Saatava Oy", "CN", &[1]),
            w.disclosure("Perintätoimisto Saatava Oy", "US", &[2]),
        ])
        .await
        .unwrap();
    assert_eq!(flags(&odd[0]), [pb::Flag::IrregularDisclosure]);
    assert_eq!(flags(&odd[1]), [pb::Flag::TransferWithoutSafeguard]);
    assert_eq!(
        odd[1].classification.as_ref().unwrap().transfer(),
        pb::TransferKind::Undeclared
    );
    assert!(flags(&odd[2]).is_empty(), "US is declared with SCCs");
    assert_eq!(
        odd[2].classification.as_ref().unwrap().transfer(),
        pb::TransferKind::Safeguarded
    );

    // The analyst receives every entry once, and the flags arrive as events of their own.
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut messages = analyst.messages().await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.len() < 1003 {
        let message = tokio::time::timeout_at(deadline, messages.next())
            .await
            .expect("every entry reaches the analyst in time")
            .unwrap()
            .unwrap();
        let envelope = EventEnvelope::decode(message.payload.clone()).unwrap();
        let Some(Payload::DisclosureRecorded(d)) = envelope.payload else {
            panic!("not a recorded disclosure: {envelope:?}");
        };
        for secret in ["Aino", "Eino", "Iines", "Luovutettu"] {
            assert!(
                !format!("{d:?}").contains(secret),
                "the stream names people only by pseudonym"
            );
        }
        *seen.entry(d.sequence).or_default() += 1;
        message.ack().await.unwrap();
    }
    assert!(seen.values().all(|n| *n == 1), "each entry once");
    let flagged = wait_for_messages(&nats, "REKISTERI_DISCLOSURES", 1003 + 2, WAIT).await;
    let flag_events: Vec<String> = flagged
        .iter()
        .filter_map(
            |m| match EventEnvelope::decode(m.payload.clone()).unwrap().payload {
                Some(Payload::DisclosureFlagged(f)) => Some(f.flag),
                _ => None,
            },
        )
        .collect();
    assert_eq!(
        flag_events,
        ["irregular_disclosure", "transfer_without_safeguard"]
    );

    // The Python example of docs/examples, as the docs run it: every entry once, counted.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = tokio::process::Command::new(root.join("scripts/python-example"))
        .arg(root.join("docs/examples/disclosures_consumer.py"))
        .args([w.system.nats.url().as_str(), "python-analyst", "1003"])
        .output()
        .await
        .expect("scripts/python-example runs");
    assert!(
        python.status.success(),
        "the Python example: {}",
        String::from_utf8_lossy(&python.stderr)
    );
    let counted: serde_json::Value = serde_json::from_slice(&python.stdout).unwrap();
    assert_eq!(counted["disclosures"], 1003);
    let per_month = counted["per_recipient_month"].as_object().unwrap();
    assert_eq!(
        per_month.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        1003
    );
    assert!(
        per_month
            .keys()
            .any(|k| k.starts_with("Perintätoimisto Saatava Oy ")),
        "{per_month:?}"
    );

    // The summary counts per recipient, flag and month.
    let summary = w
        .disclosures
        .summarize_disclosures(pb::SummarizeDisclosuresRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.total, 1003);
    let count = |counts: &[pb::Count], key: &str| {
        counts
            .iter()
            .find(|c| c.key == key)
            .map_or(0, |c| c.disclosures)
    };
    assert_eq!(
        count(&summary.by_recipient, "Perintätoimisto Saatava Oy"),
        1002
    );
    assert_eq!(count(&summary.by_recipient, "Markkinointi Oy"), 1);
    assert_eq!(count(&summary.by_flag, "irregular_disclosure"), 1);
    assert_eq!(count(&summary.by_flag, "transfer_without_safeguard"), 1);
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(count(&summary.by_month, &this_month), 1003);
    assert_eq!(count(&summary.by_register, &w.register), 1003);

    // The signed checkpoint, checked here; proofs rebuilt by the RFC's recursion.
    let after = w.checkpoint().await;
    assert_eq!(after.tree_size, 1003);
    assert!(checkpoint_signature_holds(&after));
    let entries = all_entries(&mut w.disclosures, after.tree_size).await;
    let leaves: Vec<[u8; 32]> = entries.iter().map(leaf_of).collect();
    assert_eq!(mth(&leaves).as_slice(), after.root_hash.as_slice());
    for index in [0usize, 1, 511, 512, 999, 1002] {
        let proof = w
            .disclosures
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                sequence: index as u64,
                tree_size: after.tree_size,
            })
            .await
            .unwrap()
            .into_inner()
            .proof
            .unwrap();
        assert_eq!(proof.leaf_hash.as_slice(), leaves[index].as_slice());
        let root = root_from_path(index, 1003, leaves[index], &proof.hashes);
        assert_eq!(
            root.map(|r| r.to_vec()),
            Some(after.root_hash.clone()),
            "inclusion of entry {index}"
        );
        let other = root_from_path(index, 1003, leaf_hash(b"another entry"), &proof.hashes);
        assert_ne!(other.map(|r| r.to_vec()), Some(after.root_hash.clone()));
    }

    // The auditor's command-line check: against the empty log's checkpoint saved at the start.
    let report = audit::audit(
        &mut w.disclosures,
        Some(&SavedCheckpoint::of(&before)),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.entries_checked, 1003);
    assert!(w.verify().await.ok);
    assert!(
        !stream_messages(&nats, "REKISTERI_DISCLOSURES")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn wait_for_stream(
    js: &async_nats::jetstream::Context,
) -> async_nats::jetstream::stream::Stream {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(stream) = js.get_stream("REKISTERI_DISCLOSURES").await {
            return stream;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the disclosure stream exists"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn tampering_in_the_database_is_detected_and_named(backend: Backend) {
    let mut w = world(backend).await;
    for _ in 0..3 {
        let batch: Vec<_> = (0..20)
            .map(|i| w.disclosure("Perintätoimisto Saatava Oy", "FI", &[i % 3]))
            .collect();
        w.record(batch).await.unwrap();
    }
    let saved = SavedCheckpoint::of(&w.checkpoint().await);
    assert!(w.verify().await.ok);

    // An entry edited directly in the database: named by both checks.
    w.sql("UPDATE entries SET purpose = 'Markkinointi' WHERE sequence = 17")
        .await;
    let (server, outside) = both_checks(&mut w.disclosures, &saved).await;
    assert!(!server.ok);
    assert_eq!(server.first_bad_sequence, 17, "{server:?}");
    assert_eq!(
        outside.problem.as_ref().map(|p| p.0),
        Some(17),
        "{outside:?}"
    );
    w.sql("UPDATE entries SET purpose = 'Saatavien perintä' WHERE sequence = 17")
        .await;
    assert!(w.verify().await.ok, "restored");

    // Edited together with its stored hash: the signed root still gives it away.
    let entries = all_entries(&mut w.disclosures, 60).await;
    let mut forged = entries[23].clone();
    forged.purpose = "Markkinointi".into();
    let forged_leaf = hex_of(&leaf_of(&forged));
    let blob = |hex: &str| match backend {
        Backend::Postgres => format!("'\\x{hex}'::bytea"),
        Backend::Sqlite => format!("X'{hex}'"),
    };
    w.sql(&format!(
        "UPDATE entries SET purpose = 'Markkinointi', leaf_hash = {} WHERE sequence = 23",
        blob(&forged_leaf)
    ))
    .await;
    let (server, outside) = both_checks(&mut w.disclosures, &saved).await;
    assert_eq!(
        (server.ok, server.first_bad_sequence),
        (false, 23),
        "{server:?}"
    );
    assert_eq!(
        outside.problem.as_ref().map(|p| p.0),
        Some(23),
        "{outside:?}"
    );
    w.sql(&format!(
        "UPDATE entries SET purpose = 'Saatavien perintä', leaf_hash = {} WHERE sequence = 23",
        blob(&hex_of(entries[23].leaf_hash.as_slice()))
    ))
    .await;
    assert!(w.verify().await.ok, "restored");

    // Two entries reordered (their sequence numbers swapped).
    w.swap_sequences(30, 31).await;
    let (server, outside) = both_checks(&mut w.disclosures, &saved).await;
    assert_eq!(
        (server.ok, server.first_bad_sequence),
        (false, 30),
        "{server:?}"
    );
    assert_eq!(
        outside.problem.as_ref().map(|p| p.0),
        Some(30),
        "{outside:?}"
    );
    w.swap_sequences(30, 31).await;
    assert!(w.verify().await.ok, "restored");

    // A row inserted after the last entry, as if recorded.
    w.sql(
        "INSERT INTO entries SELECT 60, 'ffffffff-ffff-7fff-bfff-ffffffffffff', recorded_at_us, disclosed_at_us, \
         recipient_name, recipient_business_id, recipient_country, subject_pseudonyms, register_id, \
         register_version, data_categories, purpose, legal_basis, channel, principal, regular, transfer, \
         flags, safeguard, leaf_hash FROM entries WHERE sequence = 59",
    )
    .await;
    assert_verify_names(&mut w, 60).await;
    w.sql("DELETE FROM entries WHERE sequence = 60").await;

    // An inner node of the stored tree changed (proofs read it): named by the entry that
    // completes it.
    let inner = node_hash(&entries[6].leaf_hash, &entries[7].leaf_hash);
    w.sql(&format!(
        "UPDATE tree_nodes SET hash = {} WHERE level = 1 AND idx = 3",
        blob(&"00".repeat(32))
    ))
    .await;
    assert_verify_names(&mut w, 7).await;
    w.sql(&format!(
        "UPDATE tree_nodes SET hash = {} WHERE level = 1 AND idx = 3",
        blob(&hex_of(&inner))
    ))
    .await;
    assert!(w.verify().await.ok, "restored");

    // A list column rewritten so the leaf reads the same but queries do not.
    w.sql("UPDATE entries SET data_categories = 'contact_details ' WHERE sequence = 7")
        .await;
    assert_verify_names(&mut w, 7).await;
    w.sql("UPDATE entries SET data_categories = 'contact_details' WHERE sequence = 7")
        .await;
    assert!(w.verify().await.ok, "restored");

    // The lookup by pseudonym (access requests) loses an entry.
    w.sql("DELETE FROM entry_subjects WHERE sequence = 12")
        .await;
    assert_verify_names(&mut w, 12).await;
    let pseudonym = entries[12].subject_pseudonyms[0].clone();
    w.sql(&format!(
        "INSERT INTO entry_subjects (pseudonym, sequence) VALUES ('{pseudonym}', 12)"
    ))
    .await;
    assert!(w.verify().await.ok, "restored");

    // A checkpoint row written by someone else (another key) is never answered.
    w.sql(&format!(
        "INSERT INTO checkpoints (tree_size, root_hash, signed_at_s, signature, public_key) \
         VALUES (1000000, {}, 0, {}, {})",
        blob(&"00".repeat(32)),
        blob(&"00".repeat(64)),
        blob(&"11".repeat(32))
    ))
    .await;
    let refused = w
        .disclosures
        .get_latest_checkpoint(pb::GetLatestCheckpointRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    w.sql("DELETE FROM checkpoints WHERE tree_size = 1000000")
        .await;

    // An entry deleted.
    w.sql("DELETE FROM entries WHERE sequence = 42").await;
    let (server, outside) = both_checks(&mut w.disclosures, &saved).await;
    assert_eq!(
        (server.ok, server.first_bad_sequence),
        (false, 42),
        "{server:?}"
    );
    assert_eq!(
        outside.problem.as_ref().map(|p| p.0),
        Some(42),
        "{outside:?}"
    );
}

/// VerifyLog fails and names entry `at`.
async fn assert_verify_names(w: &mut World, at: u64) {
    let server = w.verify().await;
    assert_eq!(
        (server.ok, server.first_bad_sequence),
        (false, at),
        "{server:?}"
    );
}

/// The service's own verification and the auditor's check from outside.
async fn both_checks(
    d: &mut Disclosures,
    saved: &SavedCheckpoint,
) -> (pb::VerifyLogResponse, audit::AuditReport) {
    let server = d
        .verify_log(pb::VerifyLogRequest {})
        .await
        .unwrap()
        .into_inner();
    let outside = audit::audit(d, Some(saved), |_, _| {}).await.unwrap();
    (server, outside)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_batch_is_all_or_nothing(backend: Backend) {
    let mut w = world(backend).await;
    let mut bad = w.disclosure("Perintätoimisto Saatava Oy", "XX", &[0]);
    bad.purpose = String::new();
    let refused = w
        .record(vec![
            w.disclosure("Perintätoimisto Saatava Oy", "FI", &[1]),
            bad,
        ])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = field_violations(&refused)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        [
            "disclosures[1].recipient.country_code",
            "disclosures[1].purpose"
        ]
    );
    // A version that was never published: refused as a whole, the valid one with it.
    let mut draft = w.disclosure("Perintätoimisto Saatava Oy", "FI", &[0]);
    draft.register_version = 2;
    let refused = w
        .record(vec![
            w.disclosure("Perintätoimisto Saatava Oy", "FI", &[1]),
            draft,
        ])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(w.checkpoint().await.tree_size, 0, "nothing was recorded");

    // A retry with the same disclosure id records nothing new.
    let mut once = w.disclosure("Perintätoimisto Saatava Oy", "FI", &[2]);
    once.disclosure_id = uuid::Uuid::now_v7().to_string();
    let first = w.record(vec![once.clone()]).await.unwrap();
    let again = w.record(vec![once.clone()]).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(w.checkpoint().await.tree_size, 1);
    // The same id for another disclosure is refused, not acknowledged: other content, or the
    // same content about another person.
    let mut other_person = once.clone();
    other_person.subject_ids = vec![w.subjects[1].clone()];
    let reused = w.record(vec![other_person]).await.unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    once.purpose = "Markkinointi".into();
    let reused = w.record(vec![once]).await.unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    assert_eq!(w.checkpoint().await.tree_size, 1);
}

async fn erasure_unlinks_the_subject_and_the_log_still_verifies(backend: Backend) {
    let mut w = world(backend).await;
    w.record(vec![
        w.disclosure("Perintätoimisto Saatava Oy", "FI", &[0, 1]),
        w.disclosure("Perintätoimisto Saatava Oy", "FI", &[0]),
    ])
    .await
    .unwrap();
    w.checkpoint().await;
    let mine = w
        .disclosures
        .get_subject_disclosures(pb::GetSubjectDisclosuresRequest {
            subject_id: w.subjects[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.disclosures.len(), 2);
    let checkpoint = mine.checkpoint.clone().unwrap();
    for d in &mine.disclosures {
        let entry = d.entry.as_ref().unwrap();
        let proof = d.proof.as_ref().unwrap();
        assert_eq!(
            root_from_path(
                entry.sequence as usize,
                checkpoint.tree_size as usize,
                leaf_of(entry),
                &proof.hashes
            )
            .map(|r| r.to_vec()),
            Some(checkpoint.root_hash.clone())
        );
    }

    let mut customers = CustomerServiceClient::with_interceptor(
        w.system.service("customers").channel().await,
        BearerToken::new(tokens::ADMIN).unwrap(),
    );
    customers
        .erase_subject(cust::EraseSubjectRequest {
            subject_id: w.subjects[0].clone(),
            etag: String::new(),
            reason: "erasure request".into(),
        })
        .await
        .unwrap();
    crate::wait_until(
        "the disclosure service has heard of the erasure",
        async || {
            w.disclosures
                .get_subject_disclosures(pb::GetSubjectDisclosuresRequest {
                    subject_id: w.subjects[0].clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .disclosures
                .is_empty()
        },
    )
    .await;
    // The entries stay, naming a pseudonym nothing links to anyone; the log verifies.
    let report = w.verify().await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries_checked, 2);
    let others = w
        .disclosures
        .get_subject_disclosures(pb::GetSubjectDisclosuresRequest {
            subject_id: w.subjects[1].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        others.disclosures.len(),
        1,
        "the other subject keeps its link"
    );
    // No new disclosure of the erased subject is recorded.
    let after = w
        .record(vec![w.disclosure("Perintätoimisto Saatava Oy", "FI", &[0])])
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::FailedPrecondition, "{after:?}");
    assert!(after.message().contains("erased"), "{after:?}");
}

/// Key rotation: the service restarted with a new signing key and the old one's public half in
/// `previous_public_keys` answers the old checkpoints, signs new ones that extend them, and
/// verifies; without the old key listed, the old checkpoints are not trusted.
async fn a_new_signing_key_keeps_trusting_the_old_checkpoints(backend: Backend) {
    let mut w = world(backend).await;
    w.record(vec![w.disclosure("Viranomaiset", "FI", &[0])])
        .await
        .unwrap();
    let old = w.checkpoint().await;
    let index = w
        .system
        .services
        .iter()
        .position(|s| s.entry.name() == "disclosures")
        .unwrap();
    let catalogue_port = w.system.service("catalogue").port;
    let restart = async |w: &mut World, previous: &[Vec<u8>]| {
        let mut config = w.system.services[index].config.clone();
        w.system.services[index].stop().await;
        let key = base64_encode(&rand_key());
        let previous: Vec<String> = previous
            .iter()
            .map(|k| format!("\"{}\"", base64_encode(k)))
            .collect();
        config
            .add_sections(&format!(
                "[disclosures]\ncatalogue_endpoint = \"http://127.0.0.1:{catalogue_port}\"\n\
                 catalogue_token = \"{}\"\nsigning_key = \"{key}\"\n\
                 previous_public_keys = [{}]\n",
                tokens::ADMIN,
                previous.join(", ")
            ))
            .unwrap();
        let entry = w.system.services[index].entry;
        w.system.services[index] = rekisteri_e2e::Running::start(entry, config).await;
        w.disclosures = DisclosureServiceClient::with_interceptor(
            w.system.services[index].channel().await,
            BearerToken::new(tokens::ADMIN).unwrap(),
        );
    };

    restart(&mut w, std::slice::from_ref(&old.public_key)).await;
    let latest = w
        .disclosures
        .get_latest_checkpoint(pb::GetLatestCheckpointRequest {})
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap();
    assert_eq!(latest, old, "the old key's checkpoint is still answered");
    w.record(vec![w.disclosure("Viranomaiset", "FI", &[1])])
        .await
        .unwrap();
    let new = w.checkpoint().await;
    assert_eq!(new.tree_size, 2);
    assert_ne!(new.public_key, old.public_key, "signed by the new key");
    assert!(checkpoint_signature_holds(&new));
    assert!(w.verify().await.ok);

    // A restart that forgets the earlier keys does not trust their checkpoints.
    restart(&mut w, &[]).await;
    let refused = w
        .disclosures
        .get_latest_checkpoint(pb::GetLatestCheckpointRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
}

/// A fresh 32-byte seed (unique per call; a test key, not a secret).
fn rand_key() -> Vec<u8> {
    Sha256::digest(uuid::Uuid::now_v7().as_bytes()).to_vec()
}

/// Recording goes on while the log is verified and checkpoints are signed: no false alarm, no
/// refusal to sign.
async fn verification_and_signing_hold_while_recording_goes_on(backend: Backend) {
    let mut w = world(backend).await;
    let batch: Vec<_> = (0..20)
        .map(|i| w.disclosure("Viranomaiset", "FI", &[i % 3]))
        .collect();
    let mut recorder = w.disclosures.clone();
    let recording = tokio::spawn(async move {
        for _ in 0..30 {
            recorder
                .record_disclosures(pb::RecordDisclosuresRequest {
                    disclosures: batch.clone(),
                })
                .await
                .expect("recorded");
        }
    });
    let mut rounds = 0;
    while !recording.is_finished() || rounds < 3 {
        let report = w.verify().await;
        assert!(report.ok, "while recording: {report:?}");
        w.checkpoint().await;
        rounds += 1;
    }
    recording.await.unwrap();
    let last = w.checkpoint().await;
    assert_eq!(last.tree_size, 600);
    let report = w.verify().await;
    assert!(report.ok && report.entries_checked == 600, "{report:?}");
}

/// Batches that wait for the log are written together (group commit: one transaction, so one
/// recorded time), yet each gets its own answer: retries of one id sent at once give one entry, an
/// id reused for another disclosure is refused while the batches beside it go in, and the log
/// holds consecutive sequence numbers and verifies.
async fn concurrent_batches_keep_their_own_outcomes(backend: Backend) {
    let mut w = world(backend).await;
    let mut retried = w.disclosure("Perintätoimisto Saatava Oy", "FI", &[0]);
    retried.disclosure_id = uuid::Uuid::now_v7().to_string();
    let mut reused = w.disclosure("Perintätoimisto Saatava Oy", "FI", &[1]);
    reused.disclosure_id = uuid::Uuid::now_v7().to_string();
    let mut reused_otherwise = reused.clone();
    reused_otherwise.purpose = "Markkinointi".into();

    let mut batches = Vec::new();
    for i in 0..12 {
        batches.push(vec![
            w.disclosure(
                "Perintätoimisto Saatava Oy",
                "FI",
                &[i % 3]
            );
            10
        ]);
    }
    for _ in 0..4 {
        batches.push(vec![retried.clone()]);
    }
    batches.push(vec![reused.clone()]);
    batches.push(vec![
        w.disclosure("Perintätoimisto Saatava Oy", "FI", &[2]),
        reused_otherwise,
    ]);
    // Another writer holds the log head while the calls arrive, so that they queue up behind the
    // first one and go in together when it lets go.
    let db = w.database().await;
    let holder = sea_orm::TransactionTrait::begin(&db).await.unwrap();
    holder
        .execute_unprepared("UPDATE log_head SET size = size WHERE id = 1")
        .await
        .unwrap();
    let calls: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let mut client = w.disclosures.clone();
            tokio::spawn(async move {
                client
                    .record_disclosures(pb::RecordDisclosuresRequest { disclosures: batch })
                    .await
                    .map(|r| r.into_inner().entries)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    holder.rollback().await.unwrap();
    db.close().await.unwrap();
    let answers: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // The calls that waited share one transaction, so one recorded time.
    let mut per_time: HashMap<i64, usize> = HashMap::new();
    for entries in answers.iter().flatten() {
        let time = entries[0].recorded_time.unwrap();
        *per_time
            .entry(time.seconds * 1_000_000_000 + i64::from(time.nanos))
            .or_default() += 1;
    }
    assert!(
        per_time.values().any(|calls| *calls >= 10),
        "the waiting calls were written together: calls per recorded time {per_time:?}"
    );

    let mut sequences = Vec::new();
    for answer in &answers[..12] {
        let entries = answer.as_ref().expect("a valid batch is recorded");
        assert_eq!(entries.len(), 10);
        sequences.extend(entries.iter().map(|e| e.sequence));
    }
    let retries: Vec<&pb::LogEntry> = answers[12..16]
        .iter()
        .map(|a| &a.as_ref().expect("a retry is answered")[0])
        .collect();
    assert!(
        retries.iter().all(|e| *e == retries[0]),
        "every retry answers with the one entry: {retries:?}"
    );
    sequences.push(retries[0].sequence);
    // One of the two claims on the reused id wins, whichever came first; the other is refused
    // as a whole (its valid first disclosure with it).
    match (&answers[16], &answers[17]) {
        (Ok(first), Err(refused)) => {
            assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
            sequences.push(first[0].sequence);
        }
        (Err(refused), Ok(second)) => {
            assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
            assert_eq!(second.len(), 2);
            sequences.extend(second.iter().map(|e| e.sequence));
        }
        other => panic!("exactly one claim on a reused id wins: {other:?}"),
    }
    sequences.sort_unstable();
    let expected: Vec<u64> = (0..sequences.len() as u64).collect();
    assert_eq!(sequences, expected, "consecutive, each once");
    assert_eq!(w.checkpoint().await.tree_size, sequences.len() as u64);
    let report = w.verify().await;
    assert!(report.ok, "{report:?}");
}
