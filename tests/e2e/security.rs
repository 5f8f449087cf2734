//! Transport security and limits: gRPC over TLS and mutual TLS, NATS with credentials (which never
//! show in logs or debug output), and the message size limit.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rekisteri_cli::services;
use rekisteri_platform::CancellationToken;
use rekisteri_platform::auth::{BearerToken, Secret};
use rekisteri_platform::config::GrpcTlsConfig;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::operations::v1 as ops;
use rekisteri_proto::operations::v1::operations_service_client::OperationsServiceClient;
use rekisteri_test_support::{NatsServer, TestDb, tokens, wait_for_messages};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::{WAIT, wait_until};

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

/// A CA, a server certificate for localhost and a client certificate, made for this test.
fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Rekisteri test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca_cert.pem(),
        server: leaf(vec!["localhost".into(), "127.0.0.1".into()]),
        client: leaf(vec!["crm.example".into()]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_mutual_tls() {
    rekisteri_test_support::init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let tls = GrpcTlsConfig {
        cert_file: write("server.pem", &pki.server.0),
        key_file: write("server.key", &pki.server.1),
        client_ca_file: Some(write("ca.pem", &pki.ca_pem)),
    };
    let nats = NatsServer::start().await;
    let db = TestDb::fresh(rekisteri_test_support::Backend::Sqlite).await;
    let mut config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
    config.grpc.tls = Some(tls);
    let service = (services::find("catalogue").unwrap().build)(&config)
        .await
        .unwrap();
    let port = service.port();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(service.run_until_stopped(cancel.clone()));

    let endpoint = |tls: Option<ClientTlsConfig>| {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut e = Endpoint::from_shared(format!("{scheme}://localhost:{port}")).unwrap();
        if let Some(tls) = tls {
            e = e.tls_config(tls).unwrap();
        }
        e
    };
    let trusted = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca_pem))
        .domain_name("localhost");
    let with_identity = trusted
        .clone()
        .identity(Identity::from_pem(&pki.client.0, &pki.client.1));

    // With a client certificate from the CA: served.
    let channel = endpoint(Some(with_identity)).connect_lazy();
    let mut client = OperationsServiceClient::with_interceptor(
        channel,
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    wait_until("the service answers over mTLS", async || {
        client.get_status(ops::GetStatusRequest {}).await.is_ok()
    })
    .await;

    // Without a client certificate, or in plaintext: no call gets through.
    let mut anonymous = OperationsServiceClient::with_interceptor(
        endpoint(Some(trusted)).connect_lazy(),
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    assert!(
        anonymous
            .get_status(ops::GetStatusRequest {})
            .await
            .is_err()
    );
    let mut plaintext = OperationsServiceClient::with_interceptor(
        endpoint(None).connect_lazy(),
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    assert!(
        plaintext
            .get_status(ops::GetStatusRequest {})
            .await
            .is_err()
    );

    cancel.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_with_a_password_and_never_showing_it() {
    rekisteri_test_support::init_tracing();
    let nats = NatsServer::start_with(&["--user", "rekisteri", "--pass", "hunter2-nats"]).await;
    let db = TestDb::fresh(rekisteri_test_support::Backend::Sqlite).await;
    let mut config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
    config.nats.user = Some("rekisteri".into());
    config.nats.password = Some(Secret::new("hunter2-nats"));
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "Debug shows no secret"
    );
    let running =
        rekisteri_e2e::Running::start(services::find("catalogue").unwrap(), config.clone()).await;
    let mut admin = CatalogueServiceClient::with_interceptor(
        running.channel().await,
        BearerToken::new(tokens::ADMIN).unwrap(),
    );
    crate::create_and_publish(&mut admin).await;
    let reader = async_nats::ConnectOptions::new()
        .user_and_password("rekisteri".into(), "hunter2-nats".into())
        .connect(nats.url())
        .await
        .unwrap();
    let messages = wait_for_messages(&reader, "REKISTERI_CATALOGUE", 1, WAIT).await;
    assert_eq!(
        messages.len(),
        1,
        "the event went out over the authenticated connection"
    );

    // A wrong password: the service still starts and takes writes, and says NATS is not connected.
    let db2 = TestDb::fresh(rekisteri_test_support::Backend::Sqlite).await;
    let mut wrong = rekisteri_test_support::service_config("catalogue", &db2.url, &nats.url());
    wrong.nats.user = Some("rekisteri".into());
    wrong.nats.password = Some(Secret::new("not-the-password"));
    let running = rekisteri_e2e::Running::start(services::find("catalogue").unwrap(), wrong).await;
    let mut ops = OperationsServiceClient::with_interceptor(
        running.channel().await,
        BearerToken::new(tokens::OPERATOR).unwrap(),
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let status = ops
        .get_status(ops::GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_ne!(status.nats_state, "connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_the_size_limit_are_refused() {
    rekisteri_test_support::init_tracing();
    let nats = NatsServer::start().await;
    let db = TestDb::fresh(rekisteri_test_support::Backend::Sqlite).await;
    let mut config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
    config.grpc.max_message_bytes = 64 * 1024;
    let running = rekisteri_e2e::Running::start(services::find("catalogue").unwrap(), config).await;
    let mut admin = CatalogueServiceClient::with_interceptor(
        running.channel().await,
        BearerToken::new(tokens::ADMIN).unwrap(),
    );
    let err = admin
        .import_register(pb::ImportRegisterRequest {
            document: "Rekisterinpitäjä: Oy Esimerkki Ab\n"
                .repeat(4000)
                .into_bytes(),
            source_name: "big.txt".into(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err:?}");
    assert!(err.message().contains("too large"), "{err:?}");
    // A document within the limit is read.
    admin
        .import_register(pb::ImportRegisterRequest {
            document: include_bytes!("../../../shared/fixtures/rekisteriseloste/verkko24.txt")
                .to_vec(),
            source_name: "verkko24.txt".into(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .expect("a document under the limit is imported");
}
