//! An example external source adapter: a process of its own that serves the adapter protocol
//! (`proto/rekisteri/adapter/v1/adapter.proto`), as a bank's KYC system or a regional register
//! would. It answers the KYC status of a few business IDs and checks the bearer token the
//! enrichment service presents. Any language with gRPC does the same; this one proves the
//! protocol in the end-to-end tests.
//!
//! `example-adapter PORT TOKEN` listens on 127.0.0.1:PORT and prints `listening` when ready.

use std::collections::HashMap;

use rekisteri_proto::adapter::v1 as pb;
use rekisteri_proto::adapter::v1::source_adapter_service_server::{
    SourceAdapterService, SourceAdapterServiceServer,
};
use tonic::{Request, Response, Status};

struct Kyc {
    token: String,
}

impl Kyc {
    fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let expected = format!("Bearer {}", self.token);
        match request.metadata().get("authorization") {
            Some(value) if value.as_bytes() == expected.as_bytes() => Ok(()),
            _ => Err(Status::unauthenticated("a bearer token is required")),
        }
    }
}

#[tonic::async_trait]
impl SourceAdapterService for Kyc {
    async fn describe(
        &self,
        request: Request<pb::DescribeRequest>,
    ) -> Result<Response<pb::DescribeResponse>, Status> {
        self.check(&request)?;
        Ok(Response::new(pb::DescribeResponse {
            supplies: "KYC status of bank customers".into(),
            query_keys: vec!["business_id".into()],
            fields: vec!["kyc_status".into(), "checked_on".into()],
        }))
    }

    async fn lookup(
        &self,
        request: Request<pb::LookupRequest>,
    ) -> Result<Response<pb::LookupResponse>, Status> {
        self.check(&request)?;
        let query = request.into_inner().query;
        let Some(business_id) = query.get("business_id") else {
            return Err(Status::invalid_argument("query.business_id is required"));
        };
        let known: HashMap<&str, (&str, &str)> = [
            ("0112038-9", ("verified", "2026-11-30")),
            ("2135102-9", ("pending", "2026-12-01")),
        ]
        .into();
        Ok(Response::new(match known.get(business_id.as_str()) {
            Some((status, checked_on)) => pb::LookupResponse {
                found: true,
                fields: [
                    ("kyc_status".to_owned(), (*status).to_owned()),
                    ("checked_on".to_owned(), (*checked_on).to_owned()),
                ]
                .into(),
            },
            None => pb::LookupResponse {
                found: false,
                fields: HashMap::new(),
            },
        }))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(token)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: example-adapter PORT TOKEN");
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
    println!("listening");
    tonic::transport::Server::builder()
        .add_service(SourceAdapterServiceServer::new(Kyc { token }))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await?;
    Ok(())
}
