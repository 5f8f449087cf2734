//! Health follows the database: NOT_SERVING while PostgreSQL refuses connections, SERVING again
//! when it accepts them. (An embedded SQLite file has no server to lose.)

use std::time::Duration;

use rekisteri_e2e::System;
use rekisteri_test_support::Backend;
use sea_orm::{ConnectionTrait, Database};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::wait_until;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_not_serving_while_postgres_is_unreachable() {
    let system = System::start_with(Backend::Postgres, |_, config| {
        config.database.health_check_interval_ms = 200;
    })
    .await;
    let catalogue = system.service("catalogue");
    let mut health = HealthClient::new(catalogue.channel().await);
    let check = async |health: &mut HealthClient<_>| {
        health
            .check(HealthCheckRequest {
                service: "rekisteri.catalogue.v1.CatalogueService".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status()
    };
    assert_eq!(check(&mut health).await, ServingStatus::Serving);

    let url = &system.databases[0].url;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin_url = std::env::var("REKISTERI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    wait_until("health reports NOT_SERVING", async || {
        check(&mut health).await == ServingStatus::NotServing
    })
    .await;

    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    wait_until("health reports SERVING again", async || {
        check(&mut health).await == ServingStatus::Serving
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}
