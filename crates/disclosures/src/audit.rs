//! Verification from outside: what `rekisteri disclosures verify` runs against a live service,
//! trusting nothing but a checkpoint the auditor saved earlier (its signature and public key).
//!
//! 1. The service's latest checkpoint must carry a valid signature by the saved key, and a
//!    consistency proof must show the saved tree is a prefix of it (the log only grew).
//! 2. Every entry is downloaded and hashed here: its leaf must equal the hash the service says it
//!    stores, its sequence must be the next one, and the tree rebuilt from these leaves must give
//!    the saved root at the saved size and the latest root at the latest size.
//! 3. When the roots disagree although every entry matches its stated hash (the entry and its
//!    hash were changed together), each entry's inclusion proof is checked against the signed
//!    root with the leaf computed here; the first that fails is the entry that was changed.

use base64::Engine;
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::disclosures::v1::disclosure_service_client::DisclosureServiceClient;
use serde::{Deserialize, Serialize};
use tonic::transport::Channel;

use crate::log::{leaf_of, verify_checkpoint};
use crate::merkle::{self, Frontier, Hash};

/// A checkpoint as an auditor keeps it: JSON, hashes and keys in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCheckpoint {
    pub tree_size: u64,
    pub root_hash: String,
    pub signed_at: i64,
    pub signature: String,
    pub public_key: String,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| anyhow::anyhow!("the saved checkpoint's {what} is not base64"))
}

impl SavedCheckpoint {
    pub fn of(c: &pb::SignedCheckpoint) -> Self {
        Self {
            tree_size: c.tree_size,
            root_hash: b64(&c.root_hash),
            signed_at: c.time.as_ref().map_or(0, |t| t.seconds),
            signature: b64(&c.signature),
            public_key: b64(&c.public_key),
        }
    }

    pub fn to_pb(&self) -> anyhow::Result<pb::SignedCheckpoint> {
        Ok(pb::SignedCheckpoint {
            tree_size: self.tree_size,
            root_hash: unb64(&self.root_hash, "root_hash")?,
            time: Some(prost_types::Timestamp {
                seconds: self.signed_at,
                nanos: 0,
            }),
            signature: unb64(&self.signature, "signature")?,
            public_key: unb64(&self.public_key, "public_key")?,
            signed_text: Vec::new(),
        })
    }
}

/// What the audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub latest: SavedCheckpoint,
    pub entries_checked: u64,
    /// The first entry that fails, and why; `None` when the log holds.
    pub problem: Option<(u64, String)>,
}

type Client<S> = DisclosureServiceClient<S>;

fn hash32(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

/// Audits the service behind `client`. `trusted` is the checkpoint saved earlier; without one
/// the service's current key and checkpoint are taken on trust (the first audit saves them).
/// `progress` hears (entries checked, entries in all).
pub async fn audit<S>(
    client: &mut Client<S>,
    trusted: Option<&SavedCheckpoint>,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<AuditReport>
where
    S: tonic::client::GrpcService<tonic::body::Body> + Clone,
    S::Error: Into<tonic::codegen::StdError>,
    S::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <S::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let latest = client
        .create_checkpoint(pb::CreateCheckpointRequest {})
        .await?
        .into_inner()
        .checkpoint
        .unwrap_or_default();
    let trusted_pb = trusted.map(SavedCheckpoint::to_pb).transpose()?;
    let key = trusted_pb
        .as_ref()
        .map_or(latest.public_key.clone(), |t| t.public_key.clone());
    let mut report = AuditReport {
        latest: SavedCheckpoint::of(&latest),
        entries_checked: 0,
        problem: None,
    };
    if let Some(t) = &trusted_pb {
        verify_checkpoint(t, &key)
            .map_err(|e| anyhow::anyhow!("the saved checkpoint itself does not verify: {e}"))?;
    }
    if let Err(e) = verify_checkpoint(&latest, &key) {
        report.problem = Some((
            0,
            format!("the service's latest checkpoint is not signed by the trusted key: {e}"),
        ));
        return Ok(report);
    }
    if let Some(t) = &trusted_pb {
        if t.tree_size > latest.tree_size {
            report.problem = Some((
                latest.tree_size,
                format!(
                    "the log shrank: {} entries were signed, it now signs {}",
                    t.tree_size, latest.tree_size
                ),
            ));
            return Ok(report);
        }
        let proof = client
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                old_size: t.tree_size,
                new_size: latest.tree_size,
            })
            .await?
            .into_inner()
            .proof
            .unwrap_or_default();
        let hashes: Option<Vec<Hash>> = proof.hashes.iter().map(|h| hash32(h)).collect();
        let consistent = match (hashes, hash32(&t.root_hash), hash32(&latest.root_hash)) {
            (Some(hashes), Some(old), Some(new)) => {
                merkle::verify_consistency(t.tree_size, latest.tree_size, &old, &new, &hashes)
                    .is_ok()
            }
            _ => false,
        };
        if !consistent {
            report.problem = Some((
                t.tree_size,
                "the latest checkpoint does not extend the saved one (entries before it were changed, deleted or reordered)".into(),
            ));
            return Ok(report);
        }
    }

    let total = latest.tree_size;
    let mut frontier = Frontier::new();
    let mut leaves: Vec<Hash> = Vec::with_capacity(total as usize);
    while frontier.size() < total {
        let at = frontier.size();
        let page = client
            .get_entries(pb::GetEntriesRequest {
                start: at,
                count: 1000,
            })
            .await?
            .into_inner()
            .entries;
        if page.is_empty() {
            report.problem = Some((at, format!("entry {at} is missing")));
            return Ok(report);
        }
        for entry in page.iter().take((total - at) as usize) {
            let expected = frontier.size();
            if entry.sequence != expected {
                report.problem = Some((
                    expected,
                    format!(
                        "entry {expected} is missing: the next entry is numbered {} (deleted or renumbered)",
                        entry.sequence
                    ),
                ));
                return Ok(report);
            }
            let leaf = leaf_of(entry);
            if leaf.as_slice() != entry.leaf_hash.as_slice() {
                report.problem = Some((
                    expected,
                    format!("entry {expected} no longer matches its leaf hash: it was changed"),
                ));
                return Ok(report);
            }
            frontier.push(leaf);
            leaves.push(leaf);
            report.entries_checked += 1;
            if let Some(t) = &trusted_pb
                && frontier.size() == t.tree_size
                && frontier.root().as_slice() != t.root_hash.as_slice()
            {
                report.problem = Some(locate(client, &leaves, t).await?);
                return Ok(report);
            }
        }
        progress(frontier.size(), total);
    }
    if frontier.root().as_slice() != latest.root_hash.as_slice() {
        report.problem = Some(locate(client, &leaves, &latest).await?);
    }
    Ok(report)
}

/// The first entry whose leaf, as computed here, is not in the signed tree: each entry's
/// inclusion proof against the signed root, in order.
async fn locate<S>(
    client: &mut Client<S>,
    leaves: &[Hash],
    signed: &pb::SignedCheckpoint,
) -> anyhow::Result<(u64, String)>
where
    S: tonic::client::GrpcService<tonic::body::Body> + Clone,
    S::Error: Into<tonic::codegen::StdError>,
    S::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <S::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let root = hash32(&signed.root_hash).unwrap_or_default();
    for (i, leaf) in leaves.iter().enumerate().take(signed.tree_size as usize) {
        let proof = client
            .get_inclusion_proof(pb::GetInclusionProofRequest {
                sequence: i as u64,
                tree_size: signed.tree_size,
            })
            .await?
            .into_inner()
            .proof
            .unwrap_or_default();
        let hashes: Option<Vec<Hash>> = proof.hashes.iter().map(|h| hash32(h)).collect();
        let included = hashes.is_some_and(|h| {
            merkle::verify_inclusion(i as u64, signed.tree_size, leaf, &h, &root).is_ok()
        });
        if !included {
            return Ok((
                i as u64,
                format!(
                    "entry {i} is not the entry signed at tree size {}: it was changed (with its stored hash)",
                    signed.tree_size
                ),
            ));
        }
    }
    Ok((
        signed.tree_size,
        format!(
            "the entries do not give the root signed at tree size {}, though each is in it",
            signed.tree_size
        ),
    ))
}

/// A client of the disclosure service over `channel` with a bearer token.
pub type AuditClient = DisclosureServiceClient<
    tonic::service::interceptor::InterceptedService<Channel, rekisteri_platform::auth::BearerToken>,
>;
