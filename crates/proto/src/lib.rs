//! Generated protobuf messages and gRPC clients/servers for every Rekisteri package.

pub mod common {
    pub mod v1 {
        tonic::include_proto!("rekisteri.common.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("rekisteri.events.v1");
    }
}

pub mod catalogue {
    pub mod v1 {
        tonic::include_proto!("rekisteri.catalogue.v1");
    }
}

pub mod customers {
    pub mod v1 {
        tonic::include_proto!("rekisteri.customers.v1");
    }
}

pub mod disclosures {
    pub mod v1 {
        tonic::include_proto!("rekisteri.disclosures.v1");
    }
}

pub mod enrichment {
    pub mod v1 {
        tonic::include_proto!("rekisteri.enrichment.v1");
    }
}

/// The protocol external source adapters implement; the enrichment service is its client.
pub mod adapter {
    pub mod v1 {
        tonic::include_proto!("rekisteri.adapter.v1");
    }
}

pub mod operations {
    pub mod v1 {
        tonic::include_proto!("rekisteri.operations.v1");
    }
}

/// The benchmark harness's minimal service (the gRPC ceiling); no Rekisteri service serves it.
pub mod bench {
    pub mod v1 {
        tonic::include_proto!("rekisteri.bench.v1");
    }
}

/// The encoded `FileDescriptorSet` of every Rekisteri proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("rekisteri_descriptor");
