//! Connecting to the service's own database: SQLite (the embedded default) or PostgreSQL.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::DatabaseConfig;

/// How long start-up waits for a database that is not up yet (a PostgreSQL pod still starting).
const STARTUP_WAIT: Duration = Duration::from_secs(30);

/// Connects, retrying for a while when the server is not reachable yet.
///
/// SQLite gets WAL, a busy timeout, foreign keys, and a single pooled connection: SQLite has one
/// writer anyway, and one connection means no transaction ever fails with SQLITE_BUSY on upgrade.
pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let url = config.url.expose();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(|d| d.to_owned()))
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
        }
        options
            .max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        options
            .max_connections(config.max_connections)
            .min_connections(1);
    }

    let deadline = tokio::time::Instant::now() + STARTUP_WAIT;
    loop {
        match Database::connect(options.clone()).await {
            Ok(db) => return Ok(db),
            Err(err) if tokio::time::Instant::now() < deadline && is_unreachable(&err) => {
                tracing::warn!(error = %err, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

fn is_unreachable(err: &DbErr) -> bool {
    let text = err.to_string();
    [
        "Connection refused",
        "timed out",
        "PoolTimedOut",
        "the database system is starting up",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/r/c.db?mode=rwc"),
            Some("/var/lib/r/c.db".into())
        );
        assert_eq!(sqlite_path("sqlite://data/c.db"), Some("data/c.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
