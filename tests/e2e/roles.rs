//! Every RPC of every service, found in the descriptor set (so a new RPC cannot be forgotten),
//! refuses a caller without a token, a caller without the method's role, and a caller holding
//! another role; and lets the declared role through.

use std::collections::BTreeSet;

use prost::Message as _;
use rekisteri_cli::services;
use rekisteri_e2e::System;
use rekisteri_platform::auth::{RoleTable, StaticToken, hash_token};
use rekisteri_platform::operations;
use rekisteri_test_support::{Backend, db_tests, raw_call, tokens};
use tonic::Code;

db_tests!(
    every_rpc_needs_its_role,
    each_port_serves_and_lists_only_its_own_service
);

fn token_for(role: &str) -> String {
    format!("test-role-token-{role}")
}

async fn every_rpc_needs_its_role(backend: Backend) {
    let tables: Vec<RoleTable> = services::ALL
        .iter()
        .map(|s| s.spec.roles)
        .chain([operations::ROLES])
        .collect();
    let roles: BTreeSet<&str> = tables
        .iter()
        .flat_map(|t| t.methods.iter().map(|(_, r)| *r))
        .collect();
    let system = System::start_with(backend, |_, config| {
        for role in &roles {
            config.auth.static_tokens.push(StaticToken {
                name: format!("holder of {role}"),
                sha256: hash_token(&token_for(role)),
                roles: vec![role.to_string()],
            });
        }
    })
    .await;

    let set = prost_types::FileDescriptorSet::decode(rekisteri_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut walked = 0;
    for file in &set.file {
        for service in &file.service {
            let full = format!("{}.{}", file.package(), service.name());
            let served_by: Vec<_> = system
                .services
                .iter()
                .filter(|r| r.entry.spec.grpc_service() == full || full == operations::SERVICE_NAME)
                .collect();
            assert!(
                !served_by.is_empty(),
                "{full} is in the schema, but no service in the table serves it"
            );
            for running in served_by {
                let table = if full == operations::SERVICE_NAME {
                    operations::ROLES
                } else {
                    running.entry.spec.roles
                };
                for method in &service.method {
                    let path = format!("/{full}/{}", method.name());
                    let role = table
                        .role(method.name())
                        .unwrap_or_else(|| panic!("{path} has no role"));
                    let other = roles
                        .iter()
                        .find(|r| **r != role)
                        .expect("more than one role");
                    let call = async |token: Option<&str>| {
                        raw_call(running.channel().await, &path, token, Vec::new())
                            .await
                            .err()
                            .map_or(Code::Ok, |s| s.code())
                    };
                    assert_eq!(
                        call(None).await,
                        Code::Unauthenticated,
                        "{path} without a token"
                    );
                    assert_eq!(
                        call(Some("not-a-known-token")).await,
                        Code::Unauthenticated,
                        "{path} with a bad token"
                    );
                    assert_eq!(
                        call(Some(tokens::NOBODY)).await,
                        Code::PermissionDenied,
                        "{path} with no role"
                    );
                    assert_eq!(
                        call(Some(&token_for(other))).await,
                        Code::PermissionDenied,
                        "{path} with the role {other} instead of {role}"
                    );
                    let allowed = call(Some(&token_for(role))).await;
                    assert!(
                        !matches!(allowed, Code::PermissionDenied | Code::Unauthenticated),
                        "{path} with its role {role}: {allowed:?}"
                    );
                    walked += 1;
                }
            }
        }
    }
    assert!(walked >= 14, "walked {walked} methods");
}

/// A client pointed at the wrong port hears UNIMPLEMENTED naming what the port serves (not a
/// role error), and reflection there lists only that port's services.
async fn each_port_serves_and_lists_only_its_own_service(backend: Backend) {
    use reflection::list_services;
    let system = System::start(backend).await;
    assert!(system.services.len() >= 2, "at least two services run");
    for running in &system.services {
        let own = running.entry.spec.grpc_service();
        for other in system
            .services
            .iter()
            .filter(|o| o.entry.spec.grpc_service() != own)
        {
            let foreign = other.entry.spec.grpc_service();
            let (method, _) = other.entry.spec.roles.methods[0];
            let path = format!("/{foreign}/{method}");
            let refused = raw_call(
                running.channel().await,
                &path,
                Some(tokens::ADMIN),
                Vec::new(),
            )
            .await
            .expect_err("another service's call is refused");
            assert_eq!(
                refused.code(),
                Code::Unimplemented,
                "{path} on {own}'s port"
            );
            assert!(
                refused.message().contains(own),
                "the refusal names what the port serves: {}",
                refused.message()
            );
        }
        let listed = list_services(running.channel().await).await;
        let expected: BTreeSet<String> = [own, operations::SERVICE_NAME, "grpc.health.v1.Health"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(listed, expected, "reflection on {own}'s port");
    }
}

mod reflection {
    use std::collections::BTreeSet;

    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    pub async fn list_services(channel: tonic::transport::Channel) -> BTreeSet<String> {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .expect("reflection answers")
            .into_inner();
        let response = responses
            .message()
            .await
            .expect("a reflection response")
            .expect("one response");
        match response.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect()
            }
            other => panic!("not a list of services: {other:?}"),
        }
    }
}
