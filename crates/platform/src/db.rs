//! Connecting to the service's own database: SQLite (the embedded default) or PostgreSQL, and
//! migrating it safely when several replicas start at once.
//!
//! [`Db`] holds two handles. On PostgreSQL both are the same pool. On SQLite the writer is a
//! single connection (SQLite has one writer anyway, and one connection means no transaction ever
//! fails with SQLITE_BUSY on upgrade) and the reader is a pool of read-only connections: in WAL
//! mode readers do not wait for the writer, so reads scale with cores instead of queueing behind
//! one connection.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::config::DatabaseConfig;

/// How long start-up waits for a database that is not up yet (a PostgreSQL pod still starting).
const STARTUP_WAIT: Duration = Duration::from_secs(30);

/// Any number that is ours alone: the PostgreSQL advisory lock key held while migrating
/// ("rekisteri" in ASCII, truncated to fit an i64).
const MIGRATION_LOCK_KEY: i64 = 0x72656b6973746572;

/// A service's database: where writes go and where reads go.
#[derive(Debug, Clone)]
pub struct Db {
    writer: DatabaseConnection,
    reader: DatabaseConnection,
    /// One connection of its own for health checks, so that a busy pool (or SQLite's one writer
    /// held by a long transaction) does not read as an unreachable database.
    probe: DatabaseConnection,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Db {
    /// Transactions, writes, and reads that must see the writer's own uncommitted state.
    pub fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// A write transaction. On SQLite it takes the write lock at `BEGIN` (IMMEDIATE): a deferred
    /// transaction that reads first and writes later fails with SQLITE_BUSY_SNAPSHOT, past any
    /// busy timeout, when another process wrote in between.
    pub async fn begin(&self) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        use sea_orm::TransactionTrait;
        if !self.is_sqlite() {
            return self.writer.begin().await;
        }
        self.writer
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Reads outside a transaction. On SQLite a pool of read-only connections; they see every
    /// committed write (an in-memory database: the writer's own connection).
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// The SQLite database file, when this is one.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.sqlite_file.clone()
    }

    pub fn is_sqlite(&self) -> bool {
        self.writer.get_database_backend() == sea_orm::DatabaseBackend::Sqlite
    }

    /// True when the database answers a trivial query on the probe connection.
    pub async fn is_reachable(&self) -> bool {
        // A query that reads the database (on SQLite a ping never touches the file).
        let check = self.probe.execute_unprepared(if self.is_sqlite() {
            "PRAGMA schema_version"
        } else {
            "SELECT 1"
        });
        tokio::time::timeout(Duration::from_secs(3), check)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub async fn close(self) -> Result<(), DbErr> {
        let sqlite = self.is_sqlite();
        self.probe.close().await?;
        if sqlite {
            self.reader.close().await?;
        }
        self.writer.close().await
    }
}

/// Connects (retrying while the server is not reachable yet), runs `M`'s migrations, and opens the
/// read pool.
pub async fn connect_and_migrate<M: MigratorTrait>(config: &DatabaseConfig) -> anyhow::Result<Db> {
    let url = config.url.expose();
    let writer = connect(config).await?;
    migrate::<M>(&writer, url).await?;
    // An in-memory SQLite database exists only on the connection that opened it: a second pool
    // would open another, empty one. There the writer's one connection serves reads too.
    let in_memory = sqlite_path(url).is_none() || url.contains("mode=memory");
    let reader = if url.starts_with("sqlite:") && !in_memory {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .max_connections(config.max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            // A local file does not go away like a server connection: no ping on every acquire
            // (on SQLite each is a round trip to the connection's worker thread).
            .test_before_acquire(false)
            // No journal_mode: the writer set WAL, which the file keeps; asking again from a
            // read-only connection needs a lock it cannot wait for (SQLITE_BUSY at once).
            .map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::from_secs(10)).read_only(true));
        Database::connect(options).await?
    } else {
        writer.clone()
    };
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::from_secs(3)).read_only(true));
    }
    // Lazily connected, and reconnected after a failure: the probe must come back by itself.
    options.connect_lazy(true);
    let probe = Database::connect(options).await?;
    Ok(Db {
        writer,
        reader,
        probe,
        sqlite_file: sqlite_path(url),
    })
}

/// Runs the migrations. On PostgreSQL under a session advisory lock held on a connection of its
/// own, so that replicas starting together migrate one after the other (the second finds nothing
/// left to do) instead of racing to create the same tables.
async fn migrate<M: MigratorTrait>(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        // SQLite: an exclusive lock on a file beside the database, for two processes (or two
        // services in one) opening the same file at once.
        let _lock = match sqlite_path(url) {
            Some(path) => lock_file(lock_beside(&path, "migrate.lock"), true).await?,
            None => None,
        };
        M::up(db, None).await?;
        return Ok(());
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1);
    let lock = Database::connect(options).await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .await?;
    let result = M::up(db, None).await;
    // Closing the connection releases the lock too; unlock first to say so plainly.
    let _ = lock
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .await;
    let _ = lock.close().await;
    result?;
    Ok(())
}

/// `DB.NAME` beside the database file `DB` (the whole name kept, so `c.db` and `c.sqlite` never
/// share a lock).
pub(crate) fn lock_beside(database: &std::path::Path, name: &str) -> std::path::PathBuf {
    let mut file = database.as_os_str().to_owned();
    file.push(".");
    file.push(name);
    file.into()
}

/// A file beside a SQLite database whose lock coordinates processes sharing that database:
/// `wait` blocks until the lock is free; otherwise `None` when someone holds it. Unlocked when the
/// returned file is dropped.
pub(crate) async fn lock_file(
    path: std::path::PathBuf,
    wait: bool,
) -> anyhow::Result<Option<std::fs::File>> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
        let locked = if wait {
            file.lock().map_err(std::fs::TryLockError::Error)
        } else {
            file.try_lock()
        };
        match locked {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::anyhow!("locking {}: {e}", path.display()))
            }
        }
    })
    .await?
}

/// Connects the writer, retrying for a while when the server is not reachable yet.
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
        // The file holds personal data: readable by the service's user alone. SQLite gives its
        // -wal and -shm files the main file's permissions, so creating it 0600 covers all three.
        #[cfg(unix)]
        if let Some(path) = sqlite_path(url) {
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(DbErr::Custom(format!("creating {}: {e}", path.display())));
                }
            }
        }
        options
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Deleted rows (an erased subject) are overwritten, not left in free pages.
                    .pragma("secure_delete", "ON")
                    .create_if_missing(true)
            });
    } else {
        // Ping a pooled connection before use only when it sat idle a while (a restarted server
        // leaves idle connections broken); a ping on every acquire would add a round trip to
        // every query.
        options
            .max_connections(config.max_connections)
            .min_connections(1)
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
        if !config.postgres_settings.is_empty() {
            // Set on each new connection with `set_config` (as `SET` would), not sent as
            // startup options: poolers such as PgBouncer refuse startup options they do not
            // know, and sqlx's own startup parameters (TimeZone, DateStyle) would override them.
            let settings = config.postgres_settings.clone();
            options.map_sqlx_postgres_pool_opts(move |pool| {
                let settings = settings.clone();
                pool.after_connect(move |conn, _| {
                    let settings = settings.clone();
                    Box::pin(async move {
                        set_session_settings(conn, &settings)
                            .await
                            .map_err(|(_, _, err)| err)
                    })
                })
            });
        }
    }

    let deadline = tokio::time::Instant::now() + STARTUP_WAIT;
    loop {
        let connected = match check_postgres_settings(config).await {
            Ok(()) => Database::connect(options.clone()).await,
            Err(err) => Err(err),
        };
        match connected {
            Ok(db) => return Ok(db),
            Err(err) if tokio::time::Instant::now() < deadline && is_unreachable(&err) => {
                tracing::warn!(error = %err, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Tries `database.postgres_settings` on a connection of its own before the pool is made: a
/// setting PostgreSQL refuses would otherwise fail every pooled connection's set-up, which the
/// pool retries until it times out, hiding PostgreSQL's words.
async fn check_postgres_settings(config: &DatabaseConfig) -> Result<(), DbErr> {
    use sea_orm::sqlx::Connection as _;
    let url = config.url.expose();
    if config.postgres_settings.is_empty() || url.starts_with("sqlite:") {
        return Ok(());
    }
    let mut conn = sea_orm::sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| DbErr::Custom(format!("connecting: {e}")))?;
    set_session_settings(&mut conn, &config.postgres_settings)
        .await
        .map_err(|(name, value, e)| {
            // PostgreSQL's own words, without sqlx's note of the line in PostgreSQL's source.
            let said = e
                .as_database_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| e.to_string());
            DbErr::Custom(format!(
                "configuration key `database.postgres_settings.{name}` = {value:?}: PostgreSQL refused it: {said}"
            ))
        })?;
    let _ = conn.close().await;
    Ok(())
}

/// Sets each setting for the session of `conn`, as `SET` would; a refused one comes back with
/// its name and value.
async fn set_session_settings<'a>(
    conn: &mut sea_orm::sqlx::PgConnection,
    settings: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), (&'a String, &'a String, sea_orm::sqlx::Error)> {
    for (name, value) in settings {
        sea_orm::sqlx::query("SELECT set_config($1, $2, false)")
            .bind(name)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(|e| (name, value, e))?;
    }
    Ok(())
}

fn is_unreachable(err: &DbErr) -> bool {
    let text = err.to_string();
    [
        "Connection refused",
        "timed out",
        "PoolTimedOut",
        "the database system is starting up",
        // SQLite: another process is switching a new file to WAL at this very moment.
        "database is locked",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// True when `err` is a unique-constraint violation: a concurrent writer got there first.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
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
