//! The append-only log: recording a batch (one transaction, consecutive sequence numbers under
//! the head row's lock, every perfect subtree stored), signed checkpoints, proofs, and the
//! verification that recomputes everything from storage.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use prost::Message;
use rekisteri_platform::db::Db;
use rekisteri_platform::error::ServiceError;
use rekisteri_platform::outbox::{self, OutboxSignal};
use rekisteri_proto::catalogue::v1::LegalBasis;
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::events::v1::{DisclosureFlagged, DisclosureRecorded, event_envelope::Payload};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::declarations::Registers;
use crate::domain::NewDisclosure;
use crate::entity::{self, checkpoints, entries, entry_subjects, log_head, tree_nodes};
use crate::merkle::{self, Frontier, Hash, NodeId};
use crate::{events, pseudonyms};

/// The first line of every signed checkpoint text: what the signature is about.
pub const CHECKPOINT_ORIGIN: &str = "rekisteri-disclosures/v1";

/// Rows per multi-row INSERT: well under SQLite's 32,766 bound variables at 21 columns.
const INSERT_CHUNK: usize = 1000;

#[derive(Debug, Clone)]
pub struct Log {
    db: Db,
    signer: Arc<SigningKey>,
    /// Public keys of earlier signing keys: their checkpoints still count (key rotation).
    previous_keys: Arc<Vec<[u8; 32]>>,
    registers: Registers,
    /// Where `record` sends its batches (see [`Appender`]).
    appender: AppenderHandle,
}

fn timestamp_of_micros(us: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1000) as i32,
    }
}

fn split_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// The entry as the API shows it and as its leaf is hashed (with `leaf_hash` set from storage).
pub fn entry_of(row: &entries::Model) -> pb::LogEntry {
    pb::LogEntry {
        sequence: row.sequence as u64,
        disclosure_id: row.disclosure_id.clone(),
        recorded_time: Some(timestamp_of_micros(row.recorded_at_us)),
        disclosed_time: Some(timestamp_of_micros(row.disclosed_at_us)),
        recipient: Some(pb::Recipient {
            name: row.recipient_name.clone(),
            business_id: row.recipient_business_id.clone(),
            country_code: row.recipient_country.clone(),
        }),
        subject_pseudonyms: split_words(&row.subject_pseudonyms),
        register_id: row.register_id.clone(),
        register_version: row.register_version as u32,
        data_categories: split_words(&row.data_categories),
        purpose: row.purpose.clone(),
        legal_basis: row.legal_basis,
        channel: row.channel,
        principal: row.principal.clone(),
        classification: Some(pb::Classification {
            regular: row.regular,
            transfer: row.transfer,
            flags: row
                .flags
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect(),
            safeguard: row.safeguard,
        }),
        leaf_hash: row.leaf_hash.clone(),
    }
}

/// The bytes an entry's leaf commits to: its protobuf encoding without the leaf hash. Auditors
/// recompute it from what GetEntries returns.
pub fn leaf_bytes(entry: &pb::LogEntry) -> Vec<u8> {
    let mut bare = entry.clone();
    bare.leaf_hash.clear();
    bare.encode_to_vec()
}

pub fn leaf_of(entry: &pb::LogEntry) -> Hash {
    merkle::leaf_hash(&leaf_bytes(entry))
}

/// The text a checkpoint's signature covers.
pub fn checkpoint_text(tree_size: u64, root: &[u8], signed_at_s: i64) -> String {
    format!(
        "{CHECKPOINT_ORIGIN}\n{tree_size}\n{}\n{signed_at_s}\n",
        base64::engine::general_purpose::STANDARD.encode(root)
    )
}

pub fn checkpoint_pb(row: &checkpoints::Model) -> pb::SignedCheckpoint {
    pb::SignedCheckpoint {
        tree_size: row.tree_size as u64,
        root_hash: row.root_hash.clone(),
        time: Some(prost_types::Timestamp {
            seconds: row.signed_at_s,
            nanos: 0,
        }),
        signature: row.signature.clone(),
        public_key: row.public_key.clone(),
        signed_text: checkpoint_text(row.tree_size as u64, &row.root_hash, row.signed_at_s)
            .into_bytes(),
    }
}

/// Checks a checkpoint's signature against `public_key` (32 bytes).
pub fn verify_checkpoint(
    checkpoint: &pb::SignedCheckpoint,
    public_key: &[u8],
) -> Result<(), String> {
    let key: [u8; 32] = public_key
        .try_into()
        .map_err(|_| "the public key is not 32 bytes".to_owned())?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
        .map_err(|e| format!("not an Ed25519 public key: {e}"))?;
    let signature: [u8; 64] = checkpoint
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| "the signature is not 64 bytes".to_owned())?;
    let text = checkpoint_text(
        checkpoint.tree_size,
        &checkpoint.root_hash,
        checkpoint.time.as_ref().map_or(0, |t| t.seconds),
    );
    key.verify_strict(
        text.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&signature),
    )
    .map_err(|_| "the signature does not match the checkpoint".to_owned())
}

/// A flag as events, summaries and the CLI spell it: `irregular_disclosure`.
pub fn flag_name(flag: i32) -> String {
    pb::Flag::try_from(flag)
        .map(|f| {
            f.as_str_name()
                .trim_start_matches("FLAG_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn flag_reason(flag: pb::Flag, entry: &pb::LogEntry) -> String {
    let recipient = entry.recipient.clone().unwrap_or_default();
    match flag {
        pb::Flag::IrregularDisclosure => format!(
            "register {} version {} declares no regular disclosure to {}",
            entry.register_id, entry.register_version, recipient.name
        ),
        pb::Flag::TransferWithoutSafeguard => format!(
            "{} is outside the EU/EEA and register {} version {} declares no safeguarded transfer there",
            recipient.country_code, entry.register_id, entry.register_version
        ),
        pb::Flag::UndeclaredCategory => format!(
            "a disclosed category is not declared by register {} version {}",
            entry.register_id, entry.register_version
        ),
        pb::Flag::Unspecified => String::new(),
    }
}

fn transfer_name(transfer: i32) -> String {
    pb::TransferKind::try_from(transfer)
        .map(|t| {
            t.as_str_name()
                .trim_start_matches("TRANSFER_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn channel_name(channel: i32) -> String {
    pb::Channel::try_from(channel)
        .map(|c| {
            c.as_str_name()
                .trim_start_matches("CHANNEL_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Whether a recorded entry is the disclosure `d` (a retry): everything the caller said but the
/// time, which a retry without one takes anew.
fn same_disclosure(
    entry: &pb::LogEntry,
    d: &NewDisclosure,
    pseudonyms_now: &std::collections::HashMap<String, String>,
    erased: &HashSet<String>,
) -> bool {
    let recipient = entry.recipient.clone().unwrap_or_default();
    let set = |items: &[String]| items.iter().cloned().collect::<HashSet<_>>();
    // The subjects, through the pseudonyms they have now; a subject erased since has none, its
    // place in the entry cannot be checked and the entry stands. Any other subject without one
    // was never in a disclosure: not this one.
    let named = set(&entry.subject_pseudonyms);
    let subjects_match = entry.subject_pseudonyms.len() == d.subject_ids.len()
        && d.subject_ids.iter().all(|s| match pseudonyms_now.get(s) {
            Some(p) => named.contains(p),
            None => erased.contains(s),
        });
    let time_matches = d.disclosed_time_given.is_none_or(|given| {
        entry
            .disclosed_time
            .is_some_and(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000 == given)
    });
    recipient.name == d.recipient_name
        && recipient.business_id == d.recipient_business_id
        && recipient.country_code == d.recipient_country
        && subjects_match
        && time_matches
        && entry.register_id == d.register_id
        && entry.register_version == d.register_version
        && set(&entry.data_categories) == set(&d.data_categories)
        && entry.purpose == d.purpose
        && entry.legal_basis == d.legal_basis as i32
        && entry.channel == d.channel as i32
}

/// Reads the stored nodes a set of proofs needs, in one query per 500 ids.
async fn nodes<C: ConnectionTrait>(
    db: &C,
    ids: &HashSet<NodeId>,
) -> Result<HashMap<NodeId, Hash>, ServiceError> {
    let mut found = HashMap::with_capacity(ids.len());
    let ids: Vec<&NodeId> = ids.iter().collect();
    for chunk in ids.chunks(500) {
        let mut any = sea_orm::Condition::any();
        for id in chunk {
            any = any.add(
                sea_orm::Condition::all()
                    .add(tree_nodes::Column::Level.eq(id.level as i32))
                    .add(tree_nodes::Column::Idx.eq(id.index as i64)),
            );
        }
        for row in tree_nodes::Entity::find().filter(any).all(db).await? {
            let hash: Hash = row.hash.as_slice().try_into().map_err(|_| {
                ServiceError::Internal(anyhow::anyhow!(
                    "tree node ({}, {}) is not 32 bytes",
                    row.level,
                    row.idx
                ))
            })?;
            found.insert(
                NodeId {
                    level: row.level as u32,
                    index: row.idx as u64,
                },
                hash,
            );
        }
    }
    Ok(found)
}

/// The hashes of `ranges` from stored nodes.
async fn range_hashes<C: ConnectionTrait>(
    db: &C,
    ranges: &[std::ops::Range<u64>],
) -> Result<Vec<Hash>, ServiceError> {
    let wanted: HashSet<NodeId> = ranges
        .iter()
        .flat_map(|r| merkle::parts(r.clone()))
        .collect();
    let stored = nodes(db, &wanted).await?;
    ranges
        .iter()
        .map(|r| {
            let parts: Option<Vec<Hash>> = merkle::parts(r.clone())
                .iter()
                .map(|id| stored.get(id).copied())
                .collect();
            parts.map(|p| merkle::fold(&p)).ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!(
                    "a tree node of leaves {r:?} is missing from storage"
                ))
            })
        })
        .collect()
}

/// A batch waiting for the appender, with the caller's reply.
struct Job {
    principal: String,
    batch: Vec<(NewDisclosure, pb::Classification)>,
    reply: oneshot::Sender<Outcome>,
    /// The batch's share of [`ADMITTED_ENTRIES`], given back when the job is answered.
    admitted: OwnedSemaphorePermit,
}

/// The appender's end of [`Log`]: where batches go, and how many entries may wait at once.
#[derive(Debug, Clone)]
struct AppenderHandle {
    jobs: mpsc::UnboundedSender<Job>,
    admission: Arc<Semaphore>,
}

/// Entries one transaction takes: batches waiting together are written together, and the
/// appender stops taking more once a group holds this many (a batch is never split).
const GROUP_ENTRIES: usize = 2_000;

/// Entries that may wait for the appender at once (under a second of work): under overload
/// callers wait for admission, where a call the client gave up on costs nothing, rather than in a
/// long queue whose batches would be written after their callers had been told they failed.
const ADMITTED_ENTRIES: usize = 5_000;

/// Why an append failed, and whether anything may have been written.
enum AppendError {
    /// Nothing was written: the transaction never committed.
    BeforeCommit(ServiceError),
    /// The commit itself failed: on PostgreSQL the commit may have been applied all the same.
    AtCommit(ServiceError),
}

impl<E: Into<ServiceError>> From<E> for AppendError {
    fn from(err: E) -> Self {
        Self::BeforeCommit(err.into())
    }
}

type Outcome = Result<Vec<pb::LogEntry>, ServiceError>;
type Work = Arc<Vec<(String, Vec<(NewDisclosure, pb::Classification)>)>>;

/// Writes batches to the log, one transaction at a time: every append holds the head row's lock
/// from its first read to its commit, so appends cannot overlap anyway; the batches that arrive
/// meanwhile wait, and go in together in the next transaction (group commit), paying its round
/// trips and its commit once. Each batch keeps its own outcome: one refused batch (an erased
/// subject, an id reused for another disclosure) does not touch the others.
#[derive(Clone)]
struct Appender {
    db: Db,
    outbox: OutboxSignal,
}

impl Appender {
    /// Starts the appender; it runs until every sender is gone.
    fn start(db: Db, outbox: OutboxSignal) -> AppenderHandle {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(Self { db, outbox }.run(rx));
        AppenderHandle {
            jobs,
            admission: Arc::new(Semaphore::new(ADMITTED_ENTRIES)),
        }
    }

    async fn run(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut size = first.batch.len();
            let mut jobs = vec![first];
            while size < GROUP_ENTRIES {
                match rx.try_recv() {
                    Ok(job) => {
                        size += job.batch.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            // A caller that is gone (its client disconnected, or the server's request timeout
            // answered it) must not have its batch written after all.
            jobs.retain(|job| !job.reply.is_closed());
            if jobs.is_empty() {
                continue;
            }
            let mut replies = Vec::with_capacity(jobs.len());
            let mut work = Vec::with_capacity(jobs.len());
            for job in jobs {
                work.push((job.principal, job.batch));
                replies.push((job.reply, job.admitted));
            }
            let work: Work = Arc::new(work);
            let outcomes: Vec<Outcome> = match self.guarded(work.clone(), None).await {
                Ok(outcomes) => outcomes,
                Err(AppendError::AtCommit(err)) => {
                    let unknown = commit_unknown(&err, work.len());
                    work.iter().map(|_| Err(unknown())).collect()
                }
                Err(AppendError::BeforeCommit(err)) if work.len() == 1 => vec![Err(err)],
                // Nothing was written: each batch alone, with the error it alone gets (an id
                // another replica recorded meanwhile is then answered as a retry).
                Err(AppendError::BeforeCommit(err)) => {
                    tracing::warn!(error = %err, batches = work.len(), "a group append failed before its commit; appending each batch alone");
                    let mut each = Vec::with_capacity(work.len());
                    for i in 0..work.len() {
                        each.push(match self.guarded(work.clone(), Some(i)).await {
                            Ok(mut outcome) => outcome.pop().unwrap_or_else(|| {
                                Err(ServiceError::Internal(anyhow::anyhow!("no outcome")))
                            }),
                            Err(AppendError::AtCommit(err)) => Err(commit_unknown(&err, 1)()),
                            Err(AppendError::BeforeCommit(err)) => Err(err),
                        });
                    }
                    each
                }
            };
            for ((reply, _admitted), outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
        }
    }

    /// One append (of every batch of `work`, or of batch `only`) in a task of its own, so that a
    /// panic fails these batches (rolled back: nothing commits after the last await) and not the
    /// appender.
    async fn guarded(&self, work: Work, only: Option<usize>) -> Result<Vec<Outcome>, AppendError> {
        let me = self.clone();
        tokio::spawn(async move {
            let batches: Vec<(&str, &[(NewDisclosure, pb::Classification)])> = work
                .iter()
                .enumerate()
                .filter(|(i, _)| only.is_none_or(|only| only == *i))
                .map(|(_, (principal, batch))| (principal.as_str(), batch.as_slice()))
                .collect();
            me.append(&batches).await
        })
        .await
        .unwrap_or_else(|panic| {
            tracing::error!(error = %panic, "appending to the disclosure log panicked");
            Err(AppendError::BeforeCommit(ServiceError::Internal(
                anyhow::anyhow!("appending to the log failed: {panic}"),
            )))
        })
    }

    /// Appends batches in one transaction; the outer error fails them all, an inner one refuses
    /// that batch alone.
    async fn append(
        &self,
        batches: &[(&str, &[(NewDisclosure, pb::Classification)])],
    ) -> Result<Vec<Outcome>, AppendError> {
        let started = std::time::Instant::now();
        let txn = self.db.begin().await?;
        // The head row's lock orders every append, also across replicas (PostgreSQL: FOR
        // UPDATE; SQLite: the write transaction itself).
        let head = log_head::Entity::find_by_id(1)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("the log head row is missing"))
            })?;
        let locked = std::time::Instant::now();
        let mut frontier =
            Frontier::from_bytes(head.size as u64, &head.frontier).ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!(
                    "the log head's frontier does not fit its size {}",
                    head.size
                ))
            })?;

        // Retries: ids already recorded are answered from the log.
        let all = || {
            batches
                .iter()
                .flat_map(|(_, batch)| batch.iter().map(|(d, _)| d))
        };
        let given: Vec<String> = all()
            .filter_map(|d| d.disclosure_id.map(|id| id.to_string()))
            .collect();
        let mut already: HashMap<String, pb::LogEntry> = HashMap::new();
        for chunk in given.chunks(INSERT_CHUNK) {
            for row in entries::Entity::find()
                .filter(entries::Column::DisclosureId.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await?
            {
                already.insert(row.disclosure_id.clone(), entry_of(&row));
            }
        }
        // Every subject named, new or retried: its pseudonym if it has one, and whether the
        // customer service erased it. The head's lock keeps two appends from making two
        // pseudonyms for one subject.
        let mut subjects: Vec<String> = all().flat_map(|d| d.subject_ids.iter().cloned()).collect();
        subjects.sort_unstable();
        subjects.dedup();
        let erased = pseudonyms::erased(&txn, &subjects).await?;
        let mut pseudonym_of = pseudonyms::existing(&txn, &subjects).await?;
        let mut new_pseudonyms = Vec::new();
        let read = std::time::Instant::now();

        let recorded_at_us = Utc::now().timestamp_micros();
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut rows = Vec::new();
        let mut links = Vec::new();
        let mut nodes_made = Vec::new();
        let mut events_out = Vec::new();
        for (principal, batch) in batches {
            if let Err(refused) = check_batch(batch, &already, &pseudonym_of, &erased) {
                outcomes.push(Err(refused));
                continue;
            }
            let mut out = Vec::with_capacity(batch.len());
            for (d, classification) in batch.iter() {
                if let Some(existing) = d.disclosure_id.and_then(|id| already.get(&id.to_string()))
                {
                    out.push(existing.clone());
                    continue;
                }
                let sequence = frontier.size();
                let disclosure_id = d
                    .disclosure_id
                    .unwrap_or_else(uuid::Uuid::now_v7)
                    .to_string();
                let pseudonyms: Vec<String> = d
                    .subject_ids
                    .iter()
                    .map(|s| {
                        pseudonym_of
                            .entry(s.clone())
                            .or_insert_with(|| {
                                let made = pseudonyms::fresh();
                                new_pseudonyms.push((s.clone(), made.clone()));
                                made
                            })
                            .clone()
                    })
                    .collect();
                let mut entry = pb::LogEntry {
                    sequence,
                    disclosure_id: disclosure_id.clone(),
                    recorded_time: Some(timestamp_of_micros(recorded_at_us)),
                    disclosed_time: Some(timestamp_of_micros(d.disclosed_at.timestamp_micros())),
                    recipient: Some(pb::Recipient {
                        name: d.recipient_name.clone(),
                        business_id: d.recipient_business_id.clone(),
                        country_code: d.recipient_country.clone(),
                    }),
                    subject_pseudonyms: pseudonyms.clone(),
                    register_id: d.register_id.clone(),
                    register_version: d.register_version,
                    data_categories: d.data_categories.clone(),
                    purpose: d.purpose.clone(),
                    legal_basis: d.legal_basis as i32,
                    channel: d.channel as i32,
                    principal: (*principal).to_owned(),
                    classification: Some(classification.clone()),
                    leaf_hash: Vec::new(),
                };
                let leaf = leaf_of(&entry);
                entry.leaf_hash = leaf.to_vec();
                nodes_made.extend(frontier.push(leaf));
                for p in pseudonyms.iter().collect::<HashSet<_>>() {
                    links.push(entry_subjects::ActiveModel {
                        pseudonym: Set(p.clone()),
                        sequence: Set(sequence as i64),
                    });
                }
                rows.push(entries::ActiveModel {
                    sequence: Set(sequence as i64),
                    disclosure_id: Set(disclosure_id.clone()),
                    recorded_at_us: Set(recorded_at_us),
                    disclosed_at_us: Set(d.disclosed_at.timestamp_micros()),
                    recipient_name: Set(d.recipient_name.clone()),
                    recipient_business_id: Set(d.recipient_business_id.clone()),
                    recipient_country: Set(d.recipient_country.clone()),
                    subject_pseudonyms: Set(pseudonyms.join(" ")),
                    register_id: Set(d.register_id.clone()),
                    register_version: Set(d.register_version as i32),
                    data_categories: Set(d.data_categories.join(" ")),
                    purpose: Set(d.purpose.clone()),
                    legal_basis: Set(d.legal_basis as i32),
                    channel: Set(d.channel as i32),
                    principal: Set((*principal).to_owned()),
                    regular: Set(classification.regular),
                    transfer: Set(classification.transfer),
                    flags: Set(classification
                        .flags
                        .iter()
                        .map(|f| f.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")),
                    safeguard: Set(classification.safeguard),
                    leaf_hash: Set(leaf.to_vec()),
                });
                events_out.extend(events_of(&entry));
                // A later batch of this group retrying the same id is answered from here.
                already.insert(disclosure_id, entry.clone());
                out.push(entry);
            }
            outcomes.push(Ok(out));
        }

        let built = std::time::Instant::now();
        let entries_written = rows.len();
        if !rows.is_empty() {
            let new_pseudonyms: Vec<entity::pseudonyms::ActiveModel> = new_pseudonyms
                .into_iter()
                .map(|(subject_id, pseudonym)| entity::pseudonyms::ActiveModel {
                    subject_id: Set(subject_id),
                    pseudonym: Set(pseudonym),
                })
                .collect();
            for chunk in new_pseudonyms.chunks(INSERT_CHUNK) {
                entity::pseudonyms::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            for chunk in rows.chunks(INSERT_CHUNK) {
                entries::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await
                    .map_err(|e| match e.sql_err() {
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                            ServiceError::Aborted(
                                "a disclosure with one of these ids was recorded meanwhile; send the batch again".into(),
                            )
                        }
                        _ => e.into(),
                    })?;
            }
            for chunk in links.chunks(INSERT_CHUNK * 5) {
                entry_subjects::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            let node_rows: Vec<tree_nodes::ActiveModel> = nodes_made
                .into_iter()
                .map(|(id, hash)| tree_nodes::ActiveModel {
                    level: Set(id.level as i32),
                    idx: Set(id.index as i64),
                    hash: Set(hash.to_vec()),
                })
                .collect();
            for chunk in node_rows.chunks(INSERT_CHUNK * 5) {
                tree_nodes::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&txn)
                    .await?;
            }
            log_head::Entity::update(log_head::ActiveModel {
                id: Set(1),
                size: Set(frontier.size() as i64),
                frontier: Set(frontier.to_bytes()),
            })
            .exec(&txn)
            .await?;
            outbox::enqueue_many(&txn, &events_out).await?;
        }
        let written = std::time::Instant::now();
        txn.commit()
            .await
            .map_err(|e| AppendError::AtCommit(e.into()))?;
        let committed = std::time::Instant::now();
        // Where an append's time goes, for whoever tunes the database under it. `lock_ms` covers
        // a pool connection, BEGIN (on SQLite, IMMEDIATE: the write lock) and the head's lock.
        // `duration_since` saturates: nothing here can panic after the commit.
        let ms = |from: std::time::Instant, to: std::time::Instant| {
            (to.duration_since(from).as_secs_f64() * 1e5).round() / 100.0
        };
        tracing::debug!(
            batches = batches.len(),
            entries = entries_written,
            lock_ms = ms(started, locked),
            read_ms = ms(locked, read),
            build_ms = ms(read, built),
            write_ms = ms(built, written),
            commit_ms = ms(written, committed),
            "appended to the log"
        );
        if !events_out.is_empty() {
            self.outbox.notify();
        }
        Ok(outcomes)
    }
}

/// The answer to each batch of an append whose commit failed: it may have been applied (a
/// connection lost after COMMIT was sent), so the callers are told so rather than the batches
/// being appended again. Logged once per append.
fn commit_unknown(err: &ServiceError, batches: usize) -> impl Fn() -> ServiceError {
    tracing::error!(error = %err, batches, "committing an append failed; whether it was applied is unknown");
    let message = format!(
        "the log could not confirm the commit ({err}): these disclosures may or may not be recorded; send them again with the same disclosure_id, which records each once"
    );
    move || ServiceError::Unavailable(message.clone())
}

/// Whether a batch may go in: no new disclosure names a subject the customer service erased,
/// and every retried id names the disclosure it was recorded for.
fn check_batch(
    batch: &[(NewDisclosure, pb::Classification)],
    already: &HashMap<String, pb::LogEntry>,
    pseudonym_of: &HashMap<String, String>,
    erased: &HashSet<String>,
) -> Result<(), ServiceError> {
    for (d, _) in batch {
        match d.disclosure_id.and_then(|id| already.get(&id.to_string())) {
            // A retry answers with what was recorded; the same id for another disclosure is a
            // mistake the caller must hear of, not an acknowledgement.
            Some(existing) => {
                if !same_disclosure(existing, d, pseudonym_of, erased) {
                    return Err(ServiceError::AlreadyExists(format!(
                        "disclosure id {} was recorded (entry {}) for another disclosure; give this one an id of its own",
                        existing.disclosure_id, existing.sequence
                    )));
                }
            }
            None => {
                if let Some(subject) = d.subject_ids.iter().find(|s| erased.contains(*s)) {
                    return Err(ServiceError::FailedPrecondition(format!(
                        "subject {subject} was erased in the customer service: no disclosure of it is recorded any more"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The events of one entry: the disclosure, and each flag raised on it.
fn events_of(
    entry: &pb::LogEntry,
) -> Vec<(&'static str, rekisteri_proto::events::v1::EventEnvelope)> {
    let recipient = entry.recipient.clone().unwrap_or_default();
    let classification = entry.classification.clone().unwrap_or_default();
    let mut out = vec![(
        events::RECORDED,
        outbox::envelope(
            events::SOURCE,
            events::RECORDED_TYPE,
            &entry.principal,
            Payload::DisclosureRecorded(DisclosureRecorded {
                sequence: entry.sequence,
                disclosure_id: entry.disclosure_id.clone(),
                disclosed_time: entry.disclosed_time,
                recipient_name: recipient.name.clone(),
                recipient_business_id: recipient.business_id.clone(),
                recipient_country_code: recipient.country_code.clone(),
                subject_pseudonyms: entry.subject_pseudonyms.clone(),
                register_id: entry.register_id.clone(),
                register_version: entry.register_version,
                data_categories: entry.data_categories.clone(),
                purpose: entry.purpose.clone(),
                legal_basis: LegalBasis::try_from(entry.legal_basis)
                    .map(|b| b.as_str_name().to_owned())
                    .unwrap_or_default(),
                channel: channel_name(entry.channel),
                regular: classification.regular,
                transfer: transfer_name(classification.transfer),
                flags: classification.flags.iter().map(|f| flag_name(*f)).collect(),
            }),
        ),
    )];
    for flag in &classification.flags {
        out.push((
            events::FLAGGED,
            outbox::envelope(
                events::SOURCE,
                events::FLAGGED_TYPE,
                &entry.principal,
                Payload::DisclosureFlagged(DisclosureFlagged {
                    sequence: entry.sequence,
                    disclosure_id: entry.disclosure_id.clone(),
                    flag: flag_name(*flag),
                    register_id: entry.register_id.clone(),
                    recipient_name: recipient.name.clone(),
                    recipient_country_code: recipient.country_code.clone(),
                    reason: flag_reason(
                        pb::Flag::try_from(*flag).unwrap_or(pb::Flag::Unspecified),
                        entry,
                    ),
                }),
            ),
        ));
    }
    out
}

impl Log {
    pub fn new(
        db: Db,
        outbox: OutboxSignal,
        signer: Arc<SigningKey>,
        previous_keys: Vec<[u8; 32]>,
        registers: Registers,
    ) -> Self {
        Self {
            appender: Appender::start(db.clone(), outbox),
            db,
            signer,
            previous_keys: Arc::new(previous_keys),
            registers,
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signer.verifying_key().to_bytes()
    }

    /// The key a stored checkpoint names, when it is this service's current or an earlier
    /// configured one; `None` for any other (a row written by someone else).
    fn known_key(&self, stored: &[u8]) -> Option<[u8; 32]> {
        let key: [u8; 32] = stored.try_into().ok()?;
        (key == self.public_key() || self.previous_keys.contains(&key)).then_some(key)
    }

    /// Records a batch: all or nothing. Disclosures whose `disclosure_id` is already in the log
    /// come back as they were recorded, and are not recorded again.
    pub async fn record(
        &self,
        principal: &str,
        batch: Vec<NewDisclosure>,
    ) -> Result<Vec<pb::LogEntry>, ServiceError> {
        // The declarations first: a network call has no place inside the transaction.
        let mut classified = Vec::with_capacity(batch.len());
        for d in batch {
            let declarations = self
                .registers
                .version(&d.register_id, d.register_version)
                .await?;
            let classification = declarations.classify(&d);
            classified.push((d, classification));
        }
        let unavailable = || {
            ServiceError::Unavailable("the disclosure log is stopping; send the batch again".into())
        };
        // A batch is at most 1,000 disclosures (validated), well within the admission limit.
        let admitted = self
            .appender
            .admission
            .clone()
            .acquire_many_owned(classified.len().min(ADMITTED_ENTRIES) as u32)
            .await
            .map_err(|_| unavailable())?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            principal: principal.to_owned(),
            batch: classified,
            reply,
            admitted,
        };
        self.appender.jobs.send(job).map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }

    // ----- checkpoints -----

    pub async fn latest_checkpoint(&self) -> Result<Option<pb::SignedCheckpoint>, ServiceError> {
        checkpoints::Entity::find()
            .order_by_desc(checkpoints::Column::TreeSize)
            .one(self.db.reader())
            .await?
            .map(|row| self.trusted(&row))
            .transpose()
    }

    /// A stored checkpoint, answered only when this service's key (or an earlier one it was
    /// configured to keep trusting) signed it: a row written into the table by someone else, with
    /// a key of their own, is refused, never passed on.
    fn trusted(&self, row: &checkpoints::Model) -> Result<pb::SignedCheckpoint, ServiceError> {
        let checkpoint = checkpoint_pb(row);
        let key = self.known_key(&row.public_key).ok_or_else(|| {
            tracing::error!(
                tree_size = row.tree_size,
                "a stored checkpoint names a key this service does not know"
            );
            ServiceError::Internal(anyhow::anyhow!(
                "the checkpoint of {} entries in storage names a key this service does not know (neither disclosures.signing_key nor disclosures.previous_public_keys)",
                row.tree_size
            ))
        })?;
        verify_checkpoint(&checkpoint, &key).map_err(|e| {
            tracing::error!(
                tree_size = row.tree_size,
                "a stored checkpoint is not this service's: {e}"
            );
            ServiceError::Internal(anyhow::anyhow!(
                "the checkpoint of {} entries in storage is not signed by this service's key: {e}",
                row.tree_size
            ))
        })?;
        Ok(checkpoint)
    }

    /// Signs the log as it is now, unless the latest checkpoint already covers it.
    pub async fn checkpoint(&self) -> Result<pb::SignedCheckpoint, ServiceError> {
        let txn = self.db.begin().await?;
        // The latest checkpoint first, then the head: a checkpoint signed meanwhile by another
        // replica is then never larger than the head read after it.
        let latest = checkpoints::Entity::find()
            .order_by_desc(checkpoints::Column::TreeSize)
            .one(&txn)
            .await?;
        let head = log_head::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("the log head row is missing"))
            })?;
        if let Some(latest) = &latest
            && latest.tree_size == head.size
        {
            return self.trusted(latest);
        }
        let frontier = Frontier::from_bytes(head.size as u64, &head.frontier).ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!(
                "the log head's frontier does not fit its size"
            ))
        })?;
        let root = frontier.root();
        // Sign only a tree that extends the last signed one: the stored nodes must prove it, so a
        // log rewritten in the database is never given a signature of its own.
        if let Some(latest) = &latest {
            let signed = self.trusted(latest)?;
            let old_root: Hash = signed.root_hash.as_slice().try_into().unwrap_or_default();
            // One read: the whole tree's root from the stored nodes, then the proof's hashes.
            let mut ranges = merkle::consistency_ranges(signed.tree_size, head.size as u64);
            ranges.insert(0, 0..head.size as u64);
            let mut proof = range_hashes(&txn, &ranges).await?;
            let ours = proof.remove(0);
            let consistent = ours == root
                && merkle::verify_consistency(
                    signed.tree_size,
                    head.size as u64,
                    &old_root,
                    &root,
                    &proof,
                )
                .is_ok();
            if !consistent {
                tracing::error!(
                    signed = signed.tree_size,
                    now = head.size,
                    "the log no longer extends its last signed checkpoint; refusing to sign (run VerifyLog)"
                );
                return Err(ServiceError::Internal(anyhow::anyhow!(
                    "the log of {} entries does not extend the checkpoint signed at {}: not signed",
                    head.size,
                    signed.tree_size
                )));
            }
        }
        let signed_at_s = Utc::now().timestamp();
        let text = checkpoint_text(head.size as u64, &root, signed_at_s);
        let signature = self.signer.sign(text.as_bytes());
        let row = checkpoints::Model {
            tree_size: head.size,
            root_hash: root.to_vec(),
            signed_at_s,
            signature: signature.to_bytes().to_vec(),
            public_key: self.public_key().to_vec(),
        };
        // Another replica may sign the same size at the same moment: the first row stands.
        let inserted = checkpoints::Entity::insert(checkpoints::ActiveModel {
            tree_size: Set(row.tree_size),
            root_hash: Set(row.root_hash.clone()),
            signed_at_s: Set(row.signed_at_s),
            signature: Set(row.signature.clone()),
            public_key: Set(row.public_key.clone()),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(checkpoints::Column::TreeSize)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let stored = if inserted == 0 {
            checkpoints::Entity::find_by_id(head.size)
                .one(&txn)
                .await?
                .unwrap_or(row)
        } else {
            row
        };
        txn.commit().await?;
        if inserted > 0 {
            tracing::info!(tree_size = head.size, "checkpoint signed");
        }
        self.trusted(&stored)
    }

    /// Signs a checkpoint every `interval` while the log grows.
    pub async fn sign_periodically(
        self,
        interval: std::time::Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(e) = self.checkpoint().await {
                tracing::warn!(error = %e, "cannot sign a checkpoint now; trying again at the next interval");
            }
        }
    }

    async fn size_for(&self, requested: u64) -> Result<u64, ServiceError> {
        if requested != 0 {
            let size = log_head::Entity::find_by_id(1)
                .one(self.db.reader())
                .await?
                .map_or(0, |h| h.size as u64);
            if requested > size {
                return Err(ServiceError::FailedPrecondition(format!(
                    "the log holds {size} entries, not {requested}"
                )));
            }
            return Ok(requested);
        }
        Ok(self.latest_checkpoint().await?.map_or(0, |c| c.tree_size))
    }

    pub async fn inclusion_proof(
        &self,
        sequence: u64,
        tree_size: u64,
    ) -> Result<pb::InclusionProof, ServiceError> {
        let size = self.size_for(tree_size).await?;
        if sequence >= size {
            return Err(ServiceError::FailedPrecondition(format!(
                "entry {sequence} is not in a tree of {size} entries (sign a checkpoint first, or ask for a larger tree)"
            )));
        }
        self.inclusion_proof_in(sequence, size).await
    }

    /// The proof of `sequence` in a tree of `size` known to hold it (a signed checkpoint's):
    /// the leaf and the path in one read.
    pub async fn inclusion_proof_in(
        &self,
        sequence: u64,
        size: u64,
    ) -> Result<pb::InclusionProof, ServiceError> {
        let mut ranges = merkle::inclusion_ranges(sequence, size);
        ranges.insert(0, sequence..sequence + 1);
        let mut hashes = range_hashes(self.db.reader(), &ranges).await?;
        let leaf = hashes.remove(0);
        Ok(pb::InclusionProof {
            sequence,
            tree_size: size,
            leaf_hash: leaf.to_vec(),
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        })
    }

    pub async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<pb::ConsistencyProof, ServiceError> {
        let new_size = self.size_for(new_size).await?;
        if old_size > new_size {
            return Err(ServiceError::FailedPrecondition(format!(
                "the old size {old_size} is larger than the new size {new_size}"
            )));
        }
        let hashes = range_hashes(
            self.db.reader(),
            &merkle::consistency_ranges(old_size, new_size),
        )
        .await?;
        Ok(pb::ConsistencyProof {
            old_size,
            new_size,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        })
    }

    pub async fn entries(&self, start: u64, count: u64) -> Result<Vec<pb::LogEntry>, ServiceError> {
        Ok(entries::Entity::find()
            .filter(entries::Column::Sequence.gte(start as i64))
            .order_by_asc(entries::Column::Sequence)
            .limit(count)
            .all(self.db.reader())
            .await?
            .iter()
            .map(entry_of)
            .collect())
    }

    /// Recomputes the tree from the stored entries, page by page, and compares: each entry's
    /// leaf with its stored leaf hash and place, and each signed checkpoint's root.
    pub async fn verify(&self) -> Result<pb::VerifyLogResponse, ServiceError> {
        let db = self.db.reader();
        let checkpoints: BTreeMap<u64, checkpoints::Model> = checkpoints::Entity::find()
            .order_by_asc(checkpoints::Column::TreeSize)
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.tree_size as u64, c))
            .collect();
        let head = log_head::Entity::find_by_id(1).one(db).await?;
        let head_size = head.as_ref().map_or(0, |h| h.size as u64);
        let head_frontier = head.map(|h| h.frontier).unwrap_or_default();
        let mut report = pb::VerifyLogResponse {
            ok: true,
            ..Default::default()
        };
        let fail = |report: &mut pb::VerifyLogResponse, at: u64, problem: String| {
            report.ok = false;
            report.first_bad_sequence = at;
            report.problem = problem;
        };
        let mut frontier = Frontier::new();
        let mut previous_checkpoint = 0u64;
        let check_root = |frontier: &Frontier,
                          report: &mut pb::VerifyLogResponse,
                          previous: &mut u64|
         -> bool {
            let size = frontier.size();
            let Some(c) = checkpoints.get(&size) else {
                return true;
            };
            report.checkpoints_checked += 1;
            let pb_c = checkpoint_pb(c);
            let checked = match self.known_key(&c.public_key) {
                Some(key) => verify_checkpoint(&pb_c, &key),
                None => Err("signed by a key this service does not know".to_owned()),
            };
            if let Err(e) = checked {
                let at = *previous;
                fail(report, at, format!("checkpoint of {size} entries: {e}"));
                return false;
            }
            if frontier.root().as_slice() != c.root_hash.as_slice() {
                let at = *previous;
                fail(
                    report,
                    at,
                    format!(
                        "the entries up to {size} no longer give the root signed at that size: an entry in {at}..{size} was changed, together with its stored hash"
                    ),
                );
                return false;
            }
            *previous = size;
            true
        };
        if !check_root(&frontier, &mut report, &mut previous_checkpoint) {
            return Ok(report);
        }
        let mut next = 0u64;
        let mut inner: Vec<(NodeId, Hash, u64)> = Vec::new();
        loop {
            // Up to the size read at the start: entries recorded meanwhile are the next run's.
            let page = entries::Entity::find()
                .filter(entries::Column::Sequence.gte(next as i64))
                .filter(entries::Column::Sequence.lt(head_size as i64))
                .order_by_asc(entries::Column::Sequence)
                .limit(1000)
                .all(db)
                .await?;
            if page.is_empty() {
                break;
            }
            // The leaves as the tree stores them (level 0), a second record of each hash.
            let first = page[0].sequence;
            let last = page[page.len() - 1].sequence;
            let stored_leaves: HashMap<i64, Vec<u8>> = tree_nodes::Entity::find()
                .filter(tree_nodes::Column::Level.eq(0))
                .filter(tree_nodes::Column::Idx.gte(first))
                .filter(tree_nodes::Column::Idx.lte(last))
                .all(db)
                .await?
                .into_iter()
                .map(|n| (n.idx, n.hash))
                .collect();
            // The lookup of entries by pseudonym (access requests) must say what the entries say.
            let mut named: HashMap<i64, Vec<String>> = HashMap::new();
            for link in entry_subjects::Entity::find()
                .filter(entry_subjects::Column::Sequence.gte(first))
                .filter(entry_subjects::Column::Sequence.lte(last))
                .all(db)
                .await?
            {
                named.entry(link.sequence).or_default().push(link.pseudonym);
            }
            for row in &page {
                let at = frontier.size();
                if row.sequence as u64 != at {
                    fail(
                        &mut report,
                        at,
                        format!(
                            "entry {at} is missing: the next stored entry is {} (deleted or renumbered)",
                            row.sequence
                        ),
                    );
                    return Ok(report);
                }
                let leaf = leaf_of(&entry_of(row));
                // Lists are stored space-separated: a value the leaf reads the same but queries
                // do not (a flag "01" for "1") is a change too.
                let canonical = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
                let flags_canonical = row
                    .flags
                    .split_whitespace()
                    .map(|f| f.parse::<i32>().map(|n| n.to_string()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" ");
                if row.flags != flags_canonical
                    || row.data_categories != canonical(&row.data_categories)
                    || row.subject_pseudonyms != canonical(&row.subject_pseudonyms)
                {
                    fail(
                        &mut report,
                        at,
                        format!(
                            "entry {at} has a list column out of its stored form: it was changed"
                        ),
                    );
                    return Ok(report);
                }
                if leaf.as_slice() != row.leaf_hash.as_slice() {
                    fail(
                        &mut report,
                        at,
                        format!("entry {at} no longer matches its leaf: a field was changed"),
                    );
                    return Ok(report);
                }
                if stored_leaves.get(&row.sequence).map(Vec::as_slice) != Some(leaf.as_slice()) {
                    fail(
                        &mut report,
                        at,
                        format!(
                            "entry {at} is not the leaf the tree holds: it was changed together with its hash"
                        ),
                    );
                    return Ok(report);
                }
                let mut listed = named.remove(&row.sequence).unwrap_or_default();
                listed.sort();
                let mut own: Vec<String> = split_words(&row.subject_pseudonyms);
                own.sort();
                own.dedup();
                if listed != own {
                    fail(
                        &mut report,
                        at,
                        format!(
                            "entry {at}: the subject lookup lists other pseudonyms than the entry names (entry_subjects was changed)"
                        ),
                    );
                    return Ok(report);
                }
                // The inner nodes this leaf completes, as proofs and signing read them.
                inner.extend(
                    frontier
                        .push(leaf)
                        .into_iter()
                        .filter(|(id, _)| id.level > 0)
                        .map(|(id, hash)| (id, hash, at)),
                );
                report.entries_checked += 1;
                if !check_root(&frontier, &mut report, &mut previous_checkpoint) {
                    return Ok(report);
                }
            }
            let wanted: HashSet<NodeId> = inner.iter().map(|(id, _, _)| *id).collect();
            let stored = nodes(db, &wanted).await?;
            if let Some((id, _, at)) = inner
                .iter()
                .find(|(id, hash, _)| stored.get(id) != Some(hash))
            {
                fail(
                    &mut report,
                    *at,
                    format!(
                        "the tree node at level {} index {} (completed by entry {at}) is not what the entries give: the stored tree was changed",
                        id.level, id.index
                    ),
                );
                return Ok(report);
            }
            inner.clear();
            next = frontier.size();
        }
        // The head's right edge (what the next append and checkpoint build on).
        if frontier.size() == head_size && frontier.to_bytes() != head_frontier {
            fail(
                &mut report,
                head_size,
                "the log head's stored frontier is not what the entries give: it was changed"
                    .into(),
            );
            return Ok(report);
        }
        if frontier.size() != head_size {
            let at = frontier.size();
            fail(
                &mut report,
                at,
                format!("the log should hold {head_size} entries; from {at} on they are missing"),
            );
            return Ok(report);
        }
        // Rows past the log's end (read again: appends may have come meanwhile) were not
        // appended by the service.
        // The highest row first, the head after it: an honest row always lies below a head read
        // later (it committed with it), so only a row past that head was put there by hand. And
        // no row has a negative number.
        let highest = entries::Entity::find()
            .order_by_desc(entries::Column::Sequence)
            .one(db)
            .await?;
        let lowest = entries::Entity::find()
            .order_by_asc(entries::Column::Sequence)
            .one(db)
            .await?;
        let head_now = log_head::Entity::find_by_id(1)
            .one(db)
            .await?
            .map_or(0, |h| h.size as u64);
        let stray = [
            highest.filter(|h| h.sequence >= head_now as i64),
            lowest.filter(|l| l.sequence < 0),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(stray) = stray {
            fail(
                &mut report,
                stray.sequence as u64,
                format!(
                    "entry {} lies past the log's end ({head_now} entries): it was inserted",
                    stray.sequence
                ),
            );
            return Ok(report);
        }
        if let Some((&size, _)) = checkpoints.range(head_size + 1..).next() {
            fail(
                &mut report,
                head_size,
                format!(
                    "a checkpoint was signed at {size} entries, the log now holds {head_size}: entries were deleted"
                ),
            );
        }
        Ok(report)
    }

    // ----- queries -----

    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Disclosure time of a row, for summaries.
pub fn disclosed_at(row: &entries::Model) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(row.disclosed_at_us).unwrap_or_default()
}
