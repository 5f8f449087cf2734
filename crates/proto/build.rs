//! Generates the Rust code for `proto/` with the protoc shipped by `protoc-bin-vendored`, so that a
//! fresh machine needs no system protoc.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "rekisteri/common/v1/common.proto",
    "rekisteri/events/v1/events.proto",
    "rekisteri/catalogue/v1/catalogue.proto",
    "rekisteri/customers/v1/customers.proto",
    "rekisteri/disclosures/v1/disclosures.proto",
    "rekisteri/enrichment/v1/enrichment.proto",
    "rekisteri/operations/v1/operations.proto",
];

/// The benchmark harness's own service: generated, but kept out of the services' descriptor set
/// (reflection and the role walk cover what the services serve, and no service serves this).
const BENCH_PROTOS: &[&str] = &["rekisteri/bench/v1/bench.proto"];

/// The protocol external source adapters implement: the enrichment service is its client, and
/// no Rekisteri service serves it, so it too stays out of the services' descriptor set.
const ADAPTER_PROTOS: &[&str] = &["rekisteri/adapter/v1/adapter.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;

    let files: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();
    let unserved: Vec<PathBuf> = BENCH_PROTOS
        .iter()
        .chain(ADAPTER_PROTOS)
        .map(|p| root.join(p))
        .collect();
    // Each file by name: a directory given to rerun-if-changed was seen to miss an edited file.
    for file in files.iter().chain(&unserved) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("rekisteri_descriptor.bin"))
        .compile_with_config(config, &files, &[root.clone(), include.clone()])?;
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure().compile_with_config(config, &unserved, &[root, include])?;
    Ok(())
}
