//! The access log's writer for searches and reveals: each is answered only once its row is
//! committed, and the rows of the calls that arrive while one transaction is under way go in
//! together in the next one (group commit).
//!
//! A find by identity code is a read, but its log row is a write: one transaction and one commit
//! a find, on SQLite behind the single writer. Written one by one, the commits were most of a
//! find's cost; grouped, concurrent finds share them. Nothing changes for the caller: its answer
//! still waits for its own row's commit, and a failed commit fails the call.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use rekisteri_platform::db::Db;
use rekisteri_platform::error::ServiceError;
use sea_orm::{EntityTrait, Set};

use crate::entity::access_log;

/// Rows one transaction takes at most: a group stops growing here.
const GROUP_ROWS: usize = 500;

/// Calls that may wait for the writer at once; more wait to be let in.
const QUEUED_CALLS: usize = 1_024;

/// One access-log row to write.
#[derive(Debug, Clone)]
pub struct Access {
    /// Empty for a search that found no one.
    pub subject_id: String,
    pub kind: &'static str,
    pub actor: String,
    pub reason: String,
}

struct Job {
    rows: Vec<Access>,
    reply: oneshot::Sender<Result<(), Arc<anyhow::Error>>>,
}

/// Where a call's access-log rows go; cheap to clone.
#[derive(Debug, Clone)]
pub struct AccessLogWriter {
    jobs: mpsc::Sender<Job>,
}

impl AccessLogWriter {
    /// Starts the writer; it runs until every handle is gone.
    pub fn start(db: Db) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUED_CALLS);
        tokio::spawn(run(db, rx));
        Self { jobs }
    }

    /// Writes `rows`; returns once they are committed.
    pub async fn record(&self, rows: Vec<Access>) -> Result<(), ServiceError> {
        let (reply, answer) = oneshot::channel();
        let gone = || ServiceError::Unavailable("the access log's writer has stopped".into());
        self.jobs
            .send(Job { rows, reply })
            .await
            .map_err(|_| gone())?;
        match answer.await.map_err(|_| gone())? {
            Ok(()) => Ok(()),
            Err(err) => Err(ServiceError::Internal(anyhow::anyhow!(
                "the access log could not be written, so nothing is answered: {err:#}"
            ))),
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut size = first.rows.len();
        let mut jobs = vec![first];
        while size < GROUP_ROWS {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.rows.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let rows: Vec<Access> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.rows))
            .collect();
        // In a task of its own: a panic fails this group's calls, not the writer.
        let outcome = match tokio::spawn(write(db.clone(), rows)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::new(e)),
            Err(panic) => Err(anyhow::anyhow!("the write panicked: {panic}")),
        }
        .map_err(|e| {
            tracing::error!(
                error = format!("{e:#}"),
                rows = size,
                "writing to the access log failed"
            );
            Arc::new(e)
        });
        for job in jobs {
            let _ = job.reply.send(outcome.clone());
        }
    }
}

async fn write(db: Db, rows: Vec<Access>) -> Result<(), sea_orm::DbErr> {
    let now = chrono::Utc::now();
    let rows: Vec<access_log::ActiveModel> = rows
        .into_iter()
        .map(|a| access_log::ActiveModel {
            // UUIDv7: time-ordered, as the rows written in the same transaction as an export
            // or an erasure.
            id: Set(uuid::Uuid::now_v7().to_string()),
            subject_id: Set(a.subject_id),
            kind: Set(a.kind.into()),
            actor: Set(a.actor),
            reason: Set(a.reason),
            created_at: Set(now),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // One statement commits on its own: no BEGIN and COMMIT round trips around it.
    access_log::Entity::insert_many(rows)
        .exec_without_returning(db.writer())
        .await?;
    Ok(())
}
