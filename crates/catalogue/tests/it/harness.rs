use rekisteri_platform::CancellationToken;
use rekisteri_platform::config::ServiceConfig;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_register::RegisterContent;
use rekisteri_test_support::{Backend, Bearer, NatsServer, TestDb, tokens};
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = CatalogueServiceClient<InterceptedService<Channel, Bearer>>;

/// A running catalogue with its own NATS server and database.
pub struct TestApp {
    pub nats: NatsServer,
    pub db: TestDb,
    pub config: ServiceConfig,
    pub port: u16,
    cancel: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        rekisteri_test_support::init_tracing();
        let nats = NatsServer::start().await;
        let db = TestDb::fresh(backend).await;
        let config = rekisteri_test_support::service_config("catalogue", &db.url, &nats.url());
        let mut app = TestApp {
            nats,
            db,
            config,
            port: 0,
            cancel: CancellationToken::new(),
            handle: None,
        };
        app.start().await;
        app
    }

    /// Starts the service (again) on the same database and NATS server.
    pub async fn start(&mut self) {
        let app = rekisteri_catalogue::build(&self.config)
            .await
            .expect("the catalogue starts");
        self.port = app.port();
        self.cancel = CancellationToken::new();
        self.handle = Some(tokio::spawn(app.run_until_stopped(self.cancel.clone())));
        rekisteri_test_support::wait_until_serving(self.port).await;
    }

    /// Stops the service gracefully and waits until it has.
    pub async fn stop(&mut self) {
        self.cancel.cancel();
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("the service task")
                .expect("the service stopped cleanly");
        }
    }

    pub async fn client(&self, token: &str) -> Client {
        CatalogueServiceClient::with_interceptor(
            rekisteri_test_support::channel(self.port).await,
            Bearer::new(token).unwrap(),
        )
    }

    pub async fn admin(&self) -> Client {
        self.client(tokens::ADMIN).await
    }

    pub async fn nats_client(&self) -> async_nats::Client {
        self.nats.client().await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A complete register, transcribed from a real rekisteriseloste.
pub fn sample() -> pb::RegisterContent {
    let yaml = include_str!("../../../../examples/registers/mainostakomo.yaml");
    let content: RegisterContent = serde_yaml::from_str(yaml).expect("the example register parses");
    rekisteri_catalogue::convert::content_pb(&content)
}

pub async fn create(
    client: &mut Client,
    content: pb::RegisterContent,
) -> pb::CreateRegisterResponse {
    client
        .create_register(pb::CreateRegisterRequest {
            content: Some(content),
        })
        .await
        .expect("create succeeds")
        .into_inner()
}

/// Creates a register and returns its id.
pub async fn create_id(client: &mut Client, content: pb::RegisterContent) -> String {
    create(client, content)
        .await
        .register
        .expect("a register")
        .register_id
}

pub async fn update(
    client: &mut Client,
    register_id: &str,
    content: pb::RegisterContent,
    expected_latest_version: u32,
) -> Result<pb::UpdateRegisterDraftResponse, tonic::Status> {
    client
        .update_register_draft(pb::UpdateRegisterDraftRequest {
            etag: String::new(),
            register_id: register_id.into(),
            content: Some(content),
            expected_latest_version,
            clear_translations: false,
        })
        .await
        .map(|r| r.into_inner())
}

pub async fn publish(client: &mut Client, register_id: &str) -> pb::PublishRegisterResponse {
    client
        .publish_register(pb::PublishRegisterRequest {
            etag: String::new(),
            register_id: register_id.into(),
            expected_version: 0,
        })
        .await
        .expect("publish succeeds")
        .into_inner()
}

pub async fn get(
    client: &mut Client,
    register_id: &str,
    selector: pb::VersionSelector,
    version: u32,
) -> Result<pb::GetRegisterResponse, tonic::Status> {
    client
        .get_register(pb::GetRegisterRequest {
            register_id: register_id.into(),
            selector: selector as i32,
            version,
        })
        .await
        .map(|r| r.into_inner())
}

/// The field paths of a status's `BadRequest` violations.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    rekisteri_platform::error::field_violations(status)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}
