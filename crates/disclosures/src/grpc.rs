//! The gRPC handlers: parse into typed arguments (every invalid field at once), call the log,
//! map back. Roles are checked by the platform's gate before a handler runs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use prost::Message as _;
use rekisteri_platform::auth::Principal;
use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_proto::common::v1::{PageRequest, PageResponse};
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::disclosures::v1::disclosure_service_server::DisclosureService;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};

use crate::entity::{entries, entry_subjects};
use crate::log::{self, Log};
use crate::{domain, pseudonyms};

const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 500;

#[derive(Debug, Clone)]
pub struct Disclosures {
    log: Log,
    max_message_bytes: usize,
}

impl Disclosures {
    pub fn new(log: Log, max_message_bytes: usize) -> Self {
        Self {
            log,
            max_message_bytes,
        }
    }
}

fn page(page: Option<&PageRequest>, v: &mut FieldViolations) -> (u64, Option<i64>) {
    let (size, token) = page.map_or((0, ""), |p| (p.page_size, p.page_token.as_str()));
    if !(0..=MAX_PAGE_SIZE as i32).contains(&size) {
        v.add("page.page_size", format!("between 0 and {MAX_PAGE_SIZE}"));
    }
    let after = if token.is_empty() {
        None
    } else {
        match token.parse::<i64>() {
            Ok(t) if t >= 0 => Some(t),
            _ => {
                v.add("page.page_token", "not a token this list returned");
                None
            }
        }
    };
    let size = if size <= 0 {
        DEFAULT_PAGE_SIZE
    } else {
        size as u64
    };
    (size, after)
}

fn micros(t: Option<&prost_types::Timestamp>, path: &str, v: &mut FieldViolations) -> Option<i64> {
    let t = t?;
    let nanos = u32::try_from(t.nanos).ok().filter(|n| *n < 1_000_000_000);
    match nanos.and_then(|n| DateTime::<Utc>::from_timestamp(t.seconds, n)) {
        Some(at) => Some(at.timestamp_micros()),
        None => {
            v.add(path, "not a time");
            None
        }
    }
}

fn counts(map: BTreeMap<String, u64>) -> Vec<pb::Count> {
    let mut counts: Vec<pb::Count> = map
        .into_iter()
        .map(|(key, disclosures)| pb::Count { key, disclosures })
        .collect();
    counts.sort_by(|a, b| b.disclosures.cmp(&a.disclosures).then(a.key.cmp(&b.key)));
    counts
}

#[tonic::async_trait]
impl DisclosureService for Disclosures {
    async fn record_disclosures(
        &self,
        request: Request<pb::RecordDisclosuresRequest>,
    ) -> Result<Response<pb::RecordDisclosuresResponse>, Status> {
        let principal = Principal::of(&request)?.subject;
        let batch = domain::batch(request.get_ref(), Utc::now())?;
        let mut entries = self.log.record(&principal, batch).await?;
        // The recorder knows which subjects it named: with the pseudonyms beside them it could
        // keep the link that erasure destroys. The pseudonyms stay in the log, the stream and
        // the reader's lists.
        for entry in &mut entries {
            entry.subject_pseudonyms.clear();
        }
        Ok(Response::new(pb::RecordDisclosuresResponse { entries }))
    }

    async fn list_disclosures(
        &self,
        request: Request<pb::ListDisclosuresRequest>,
    ) -> Result<Response<pb::ListDisclosuresResponse>, Status> {
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let (limit, after) = page(req.page.as_ref(), &mut v);
        let from = micros(req.from_time.as_ref(), "from_time", &mut v);
        let to = micros(req.to_time.as_ref(), "to_time", &mut v);
        let flag = match pb::Flag::try_from(req.flag) {
            Ok(pb::Flag::Unspecified) => None,
            Ok(f) => Some(f as i32),
            Err(_) => {
                v.add("flag", "not a flag");
                None
            }
        };
        v.into_result(())?;
        use entries::Column;
        // Sequence numbers start at 0: anything below was not appended by the service.
        let mut query = entries::Entity::find().filter(Column::Sequence.gte(0));
        if !req.recipient_name.trim().is_empty() {
            query = query.filter(Column::RecipientName.eq(req.recipient_name.trim()));
        }
        if !req.recipient_business_id.trim().is_empty() {
            query = query.filter(Column::RecipientBusinessId.eq(req.recipient_business_id.trim()));
        }
        if !req.register_id.trim().is_empty() {
            query = query.filter(Column::RegisterId.eq(req.register_id.trim()));
        }
        if let Some(from) = from {
            query = query.filter(Column::DisclosedAtUs.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(Column::DisclosedAtUs.lt(to));
        }
        if let Some(flag) = flag {
            // Flags are stored as space-separated numbers.
            let flag = flag.to_string();
            query = query.filter(
                sea_orm::Condition::any()
                    .add(Column::Flags.eq(flag.as_str()))
                    .add(Column::Flags.starts_with(format!("{flag} ")))
                    .add(Column::Flags.ends_with(format!(" {flag}")))
                    .add(Column::Flags.contains(format!(" {flag} "))),
            );
        }
        if !req.subject_pseudonym.trim().is_empty() {
            let sequences = sea_orm::sea_query::Query::select()
                .column(entry_subjects::Column::Sequence)
                .from(entry_subjects::Entity)
                .and_where(entry_subjects::Column::Pseudonym.eq(req.subject_pseudonym.trim()))
                .to_owned();
            query = query.filter(Column::Sequence.in_subquery(sequences));
        }
        let db = self.log.db().reader();
        let total = query.clone().count(db).await.map_err(ServiceError::from)?;
        if let Some(after) = after {
            query = query.filter(Column::Sequence.gt(after));
        }
        let rows = query
            .order_by_asc(Column::Sequence)
            .limit(limit)
            .all(db)
            .await
            .map_err(ServiceError::from)?;
        let next_page_token = if rows.len() as u64 == limit {
            rows.last()
                .map(|r| r.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListDisclosuresResponse {
            entries: rows.iter().map(log::entry_of).collect(),
            page: Some(PageResponse {
                next_page_token,
                total_size: total as i64,
            }),
        }))
    }

    async fn summarize_disclosures(
        &self,
        request: Request<pb::SummarizeDisclosuresRequest>,
    ) -> Result<Response<pb::SummarizeDisclosuresResponse>, Status> {
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        let from = micros(req.from_time.as_ref(), "from_time", &mut v);
        let to = micros(req.to_time.as_ref(), "to_time", &mut v);
        v.into_result(())?;
        let db = self.log.db().reader();
        // Counted by the database (GROUP BY), never by loading the log.
        let grouped = |key: sea_orm::sea_query::SimpleExpr| {
            let mut query = entries::Entity::find()
                .select_only()
                .column_as(key.clone(), "key")
                .column_as(entries::Column::Sequence.count(), "n")
                .group_by(key);
            if let Some(from) = from {
                query = query.filter(entries::Column::DisclosedAtUs.gte(from));
            }
            if let Some(to) = to {
                query = query.filter(entries::Column::DisclosedAtUs.lt(to));
            }
            query.into_tuple::<(String, i64)>().all(db)
        };
        let col = |c: entries::Column| sea_orm::sea_query::Expr::col(c);
        let by = |rows: Vec<(String, i64)>| -> BTreeMap<String, u64> {
            rows.into_iter().map(|(k, n)| (k, n as u64)).collect()
        };
        let by_recipient = by(grouped(col(entries::Column::RecipientName))
            .await
            .map_err(ServiceError::from)?);
        let by_register = by(grouped(col(entries::Column::RegisterId))
            .await
            .map_err(ServiceError::from)?);
        let by_purpose = by(grouped(col(entries::Column::Purpose))
            .await
            .map_err(ServiceError::from)?);
        // Days from the database, months from the days (the databases spell dates differently).
        // Floor division (both databases truncate towards zero, which would put the last day
        // before 1970 into the first one after).
        let day = sea_orm::sea_query::Expr::cust(
            "CAST(CASE WHEN disclosed_at_us < 0 \
             THEN -((-disclosed_at_us - 1) / 86400000000) - 1 \
             ELSE disclosed_at_us / 86400000000 END AS TEXT)",
        );
        let mut by_month = BTreeMap::new();
        for (days, n) in grouped(day).await.map_err(ServiceError::from)? {
            let month = days
                .parse::<i64>()
                .ok()
                .and_then(|d| DateTime::<Utc>::from_timestamp(d * 86_400, 0))
                .map(|t| t.format("%Y-%m").to_string())
                .unwrap_or_default();
            *by_month.entry(month).or_insert(0) += n as u64;
        }
        let mut by_flag = BTreeMap::new();
        for (flags, n) in grouped(col(entries::Column::Flags))
            .await
            .map_err(ServiceError::from)?
        {
            for flag in flags.split_whitespace() {
                let name = flag.parse().map(log::flag_name).unwrap_or_default();
                *by_flag.entry(name).or_insert(0) += n as u64;
            }
        }
        let total = by_register.values().sum();
        Ok(Response::new(pb::SummarizeDisclosuresResponse {
            total,
            by_recipient: counts(by_recipient),
            by_register: counts(by_register),
            by_purpose: counts(by_purpose),
            by_month: counts(by_month),
            by_flag: counts(by_flag),
        }))
    }

    async fn get_subject_disclosures(
        &self,
        request: Request<pb::GetSubjectDisclosuresRequest>,
    ) -> Result<Response<pb::GetSubjectDisclosuresResponse>, Status> {
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        // The canonical form, as subject ids were stored (any letter case or hyphenation given).
        let subject_id = match uuid::Uuid::parse_str(req.subject_id.trim()) {
            Ok(id) => id.to_string(),
            Err(_) => {
                v.add("subject_id", "a subject id (UUID) of the customer service");
                String::new()
            }
        };
        v.into_result(())?;
        let db = self.log.db().reader();
        let Some(pseudonym) = pseudonyms::of(db, &subject_id)
            .await
            .map_err(ServiceError::from)?
        else {
            return Ok(Response::new(pb::GetSubjectDisclosuresResponse::default()));
        };
        let checkpoint = self.log.latest_checkpoint().await?;
        let size = checkpoint.as_ref().map_or(0, |c| c.tree_size);
        let sequences = sea_orm::sea_query::Query::select()
            .column(entry_subjects::Column::Sequence)
            .from(entry_subjects::Entity)
            .and_where(entry_subjects::Column::Pseudonym.eq(pseudonym.as_str()))
            .to_owned();
        let rows = entries::Entity::find()
            .filter(entries::Column::Sequence.in_subquery(sequences))
            .order_by_asc(entries::Column::Sequence)
            .all(db)
            .await
            .map_err(ServiceError::from)?;
        let mut disclosures = Vec::with_capacity(rows.len());
        for row in &rows {
            // Entries after the latest checkpoint have no proof yet.
            let proof = if (row.sequence as u64) < size {
                Some(
                    self.log
                        .inclusion_proof_in(row.sequence as u64, size)
                        .await?,
                )
            } else {
                None
            };
            disclosures.push(pb::SubjectDisclosure {
                entry: Some(log::entry_of(row)),
                proof,
            });
        }
        Ok(Response::new(pb::GetSubjectDisclosuresResponse {
            subject_pseudonym: pseudonym,
            checkpoint,
            disclosures,
        }))
    }

    async fn get_entries(
        &self,
        request: Request<pb::GetEntriesRequest>,
    ) -> Result<Response<pb::GetEntriesResponse>, Status> {
        let req = request.get_ref();
        let mut v = FieldViolations::new();
        if req.count > 1000 {
            v.add("count", "at most 1000");
        }
        v.into_result(())?;
        let count = if req.count == 0 {
            100
        } else {
            req.count as u64
        };
        let mut entries = self.log.entries(req.start, count).await?;
        // Entries naming many subjects are large: a page stops short of the message limit (a
        // short page is no end of the log; ask again from where it stopped).
        let budget = self.max_message_bytes / 2;
        let mut size = 0;
        let keep = entries
            .iter()
            .take_while(|e| {
                size += e.encoded_len() + 8;
                size <= budget
            })
            .count()
            .max(1);
        entries.truncate(keep);
        Ok(Response::new(pb::GetEntriesResponse { entries }))
    }

    async fn get_latest_checkpoint(
        &self,
        _request: Request<pb::GetLatestCheckpointRequest>,
    ) -> Result<Response<pb::GetLatestCheckpointResponse>, Status> {
        let checkpoint = match self.log.latest_checkpoint().await? {
            Some(c) => c,
            None => self.log.checkpoint().await?,
        };
        Ok(Response::new(pb::GetLatestCheckpointResponse {
            checkpoint: Some(checkpoint),
        }))
    }

    async fn create_checkpoint(
        &self,
        _request: Request<pb::CreateCheckpointRequest>,
    ) -> Result<Response<pb::CreateCheckpointResponse>, Status> {
        Ok(Response::new(pb::CreateCheckpointResponse {
            checkpoint: Some(self.log.checkpoint().await?),
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        let req = request.get_ref();
        let proof = self
            .log
            .inclusion_proof(req.sequence, req.tree_size)
            .await?;
        Ok(Response::new(pb::GetInclusionProofResponse {
            proof: Some(proof),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        let req = request.get_ref();
        let proof = self
            .log
            .consistency_proof(req.old_size, req.new_size)
            .await?;
        Ok(Response::new(pb::GetConsistencyProofResponse {
            proof: Some(proof),
        }))
    }

    async fn verify_log(
        &self,
        _request: Request<pb::VerifyLogRequest>,
    ) -> Result<Response<pb::VerifyLogResponse>, Status> {
        Ok(Response::new(self.log.verify().await?))
    }
}
