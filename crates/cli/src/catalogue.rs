//! `rekisteri catalogue ...`: the catalogue's command-line client.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_proto::catalogue::v1::catalogue_service_client::CatalogueServiceClient;
use rekisteri_proto::common::v1::{BusinessId, PageRequest};
use rekisteri_register::RegisterContent;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::output;

#[derive(Debug, Args)]
pub struct CatalogueArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: CatalogueCommand,
}

/// How to reach the catalogue.
#[derive(Debug, Args)]
pub struct Connection {
    /// The catalogue's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "REKISTERI_CATALOGUE_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    endpoint: String,
    /// Bearer token; without one, the admin token `rekisteri up` left in --data-dir is used.
    #[arg(long, global = true, env = "REKISTERI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Where `rekisteri up` keeps its admin token.
    #[arg(long, global = true, default_value = crate::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print machine-readable JSON instead of text for people.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum CatalogueCommand {
    /// Create a register from a YAML or JSON file; its first version is a draft.
    Create {
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Replace the register's draft with a file's content (starting a new draft version when the
    /// latest version is published).
    Update {
        register_id: String,
        #[arg(long, short)]
        file: PathBuf,
        /// Fail unless the register's latest version is this one.
        #[arg(long, default_value_t = 0)]
        expected_version: u32,
        /// The etag `get` printed when you read the register: the update fails (ABORTED) if
        /// anyone changed it since, so that nobody's edit is overwritten unseen.
        #[arg(long, required_unless_present = "force")]
        etag: Option<String>,
        /// Replace the draft whatever happened to it since you read it.
        #[arg(long, conflicts_with = "etag")]
        force: bool,
        /// Take the file exactly as written: translations and languages it does not name are
        /// removed (otherwise they are kept, following the edited texts).
        #[arg(long)]
        clear_translations: bool,
    },
    /// Publish the register's draft after checking it is complete.
    Publish {
        register_id: String,
        /// Fail unless the draft is this version.
        #[arg(long, default_value_t = 0)]
        expected_version: u32,
        /// The etag `get` printed when you read the register: fails (ABORTED) if anyone changed
        /// it since.
        #[arg(long, required_unless_present = "force")]
        etag: Option<String>,
        /// Go ahead whatever happened to the register since you read it.
        #[arg(long, conflicts_with = "etag")]
        force: bool,
    },
    /// Retire a register; it stays readable.
    Retire {
        register_id: String,
        #[arg(long)]
        reason: String,
        /// The etag `get` printed when you read the register: fails (ABORTED) if anyone changed
        /// it since.
        #[arg(long, required_unless_present = "force")]
        etag: Option<String>,
        /// Go ahead whatever happened to the register since you read it.
        #[arg(long, conflicts_with = "etag")]
        force: bool,
    },
    /// Show a register: the published version unless told otherwise.
    Get {
        register_id: String,
        /// The latest version, draft or not.
        #[arg(long, conflicts_with_all = ["draft", "version"])]
        latest: bool,
        /// The draft being edited.
        #[arg(long, conflicts_with = "version")]
        draft: bool,
        /// A version by number.
        #[arg(long)]
        version: Option<u32>,
    },
    /// List registers, newest first.
    List {
        #[arg(long, value_enum)]
        status: Option<StatusFilter>,
        /// Only registers of the controller with this business ID (Y-tunnus).
        #[arg(long)]
        controller: Option<String>,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        /// Continue from a previous page's next-page token.
        #[arg(long, default_value = "")]
        page_token: String,
        /// Fetch every page.
        #[arg(long)]
        all: bool,
    },
    /// List every version of a register, oldest first.
    Versions { register_id: String },
    /// Measure the importer against documents whose fields were written down by hand: each
    /// NAME.txt, NAME.md or NAME.html with NAME.expected.yaml beside it. Prints precision (mapped
    /// values that are right) and recall per field kind and every wrong value. Runs locally; no
    /// catalogue is needed.
    EvaluateImport {
        /// Directories of documents, e.g. crates/register/tests/evaluation.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Also list the stated values the importer did not find.
        #[arg(long)]
        missed: bool,
        /// Fail when a field kind's precision is below this (e.g. 0.98).
        #[arg(long)]
        min_precision: Option<f64>,
    },
    /// Create a draft register from an existing register document: a rekisteriseloste or privacy
    /// notice as plain text, Markdown or HTML. Prints what each field came from and every line
    /// that could not be mapped.
    Import {
        file: PathBuf,
        /// Only show what would be recognised; create nothing.
        #[arg(long)]
        dry_run: bool,
        /// Add the document's texts to this register's draft as its translation into the
        /// document's language (e.g. the Swedish notice of a register written in Finnish).
        #[arg(long, value_name = "REGISTER_ID")]
        into: Option<String>,
        /// With --into: fail unless the register is still at this etag.
        #[arg(long, requires = "into", default_value = "")]
        etag: String,
    },
    /// Render a published register version as its public privacy notice.
    Notice {
        register_id: String,
        #[arg(long, value_enum, default_value = "fi")]
        lang: NoticeLang,
        #[arg(long, value_enum, default_value = "html")]
        format: NoticeFormat,
        /// `gdpr` (Art. 13/14) or `section10` (the classic rekisteriseloste order).
        #[arg(long, value_enum, default_value = "gdpr")]
        layout: NoticeLayout,
        /// A version that was published; the current published version by default.
        #[arg(long)]
        version: Option<u32>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NoticeLang {
    Fi,
    Sv,
    En,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NoticeFormat {
    Html,
    Markdown,
    Text,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NoticeLayout {
    Gdpr,
    Section10,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StatusFilter {
    Draft,
    Published,
    Retired,
}

type Client = CatalogueServiceClient<InterceptedService<Channel, BearerToken>>;

impl Connection {
    async fn client(&self) -> anyhow::Result<Client> {
        let bearer = crate::connect::bearer(self.token.as_deref(), &self.data_dir)?;
        let channel = crate::connect::channel(&self.endpoint, "catalogue").await?;
        Ok(CatalogueServiceClient::with_interceptor(channel, bearer))
    }
}

/// Reads a register file: YAML, or JSON (which YAML includes).
pub fn read_register_file(path: &Path) -> anyhow::Result<pb::RegisterContent> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let content: RegisterContent = serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not a register file", path.display()))?;
    Ok(rekisteri_catalogue::convert::content_pb(&content))
}

pub async fn run(args: CatalogueArgs) -> anyhow::Result<()> {
    let json = args.connection.json;
    if let CatalogueCommand::EvaluateImport {
        dirs,
        missed,
        min_precision,
    } = &args.command
    {
        return evaluate_import(dirs, *missed, *min_precision, json);
    }
    let mut client = args.connection.client().await?;
    match args.command {
        CatalogueCommand::Create { file } => {
            let content = read_register_file(&file)?;
            let r = client
                .create_register(pb::CreateRegisterRequest {
                    content: Some(content),
                })
                .await?
                .into_inner();
            output::versioned(json, "Created", r.register.as_ref(), r.version.as_ref());
        }
        CatalogueCommand::Update {
            register_id,
            file,
            expected_version,
            etag,
            force: _,
            clear_translations,
        } => {
            let content = read_register_file(&file)?;
            let etag = etag.unwrap_or_default();
            let r = client
                .update_register_draft(pb::UpdateRegisterDraftRequest {
                    register_id,
                    content: Some(content),
                    expected_latest_version: expected_version,
                    etag,
                    clear_translations,
                })
                .await?
                .into_inner();
            output::versioned(json, "Updated", r.register.as_ref(), r.version.as_ref());
        }
        CatalogueCommand::Publish {
            register_id,
            expected_version,
            etag,
            force: _,
        } => {
            let etag = etag.unwrap_or_default();
            let r = client
                .publish_register(pb::PublishRegisterRequest {
                    register_id,
                    expected_version,
                    etag,
                })
                .await?
                .into_inner();
            output::versioned(json, "Published", r.register.as_ref(), r.version.as_ref());
        }
        CatalogueCommand::Retire {
            register_id,
            reason,
            etag,
            force: _,
        } => {
            let etag = etag.unwrap_or_default();
            let r = client
                .retire_register(pb::RetireRegisterRequest {
                    register_id,
                    reason,
                    etag,
                })
                .await?
                .into_inner();
            output::versioned(json, "Retired", r.register.as_ref(), None);
        }
        CatalogueCommand::Get {
            register_id,
            latest,
            draft,
            version,
        } => {
            let (selector, number) = match (latest, draft, version) {
                (true, _, _) => (pb::VersionSelector::Latest, 0),
                (_, true, _) => (pb::VersionSelector::Draft, 0),
                (_, _, Some(n)) => (pb::VersionSelector::Number, n),
                _ => (pb::VersionSelector::LatestPublished, 0),
            };
            let r = client
                .get_register(pb::GetRegisterRequest {
                    register_id,
                    selector: selector as i32,
                    version: number,
                })
                .await?
                .into_inner();
            output::full(json, r.register.as_ref(), r.version.as_ref());
        }
        CatalogueCommand::List {
            status,
            controller,
            page_size,
            mut page_token,
            all,
        } => {
            let status = status.map_or(pb::RegisterStatus::Unspecified, |s| match s {
                StatusFilter::Draft => pb::RegisterStatus::Draft,
                StatusFilter::Published => pb::RegisterStatus::Published,
                StatusFilter::Retired => pb::RegisterStatus::Retired,
            });
            let mut registers = Vec::new();
            let total = loop {
                let r = client
                    .list_registers(pb::ListRegistersRequest {
                        page: Some(PageRequest {
                            page_size,
                            page_token: page_token.clone(),
                        }),
                        status: status as i32,
                        controller_business_id: controller
                            .clone()
                            .map(|value| BusinessId { value }),
                    })
                    .await?
                    .into_inner();
                registers.extend(r.registers);
                let page = r.page.unwrap_or_default();
                page_token = page.next_page_token;
                if !all || page_token.is_empty() {
                    break page.total_size;
                }
            };
            output::register_list(json, &registers, total, &page_token);
        }
        CatalogueCommand::Versions { register_id } => {
            let mut versions = Vec::new();
            let mut page_token = String::new();
            loop {
                let r = client
                    .list_register_versions(pb::ListRegisterVersionsRequest {
                        register_id: register_id.clone(),
                        page: Some(PageRequest {
                            page_size: 500,
                            page_token,
                        }),
                    })
                    .await?
                    .into_inner();
                versions.extend(r.versions);
                page_token = r.page.unwrap_or_default().next_page_token;
                if page_token.is_empty() {
                    break;
                }
            }
            output::version_list(json, &versions);
        }
        CatalogueCommand::EvaluateImport { .. } => unreachable!("answered before connecting"),
        CatalogueCommand::Import {
            file,
            dry_run,
            into,
            etag,
        } => {
            let document =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let max = rekisteri_register::import::MAX_DOCUMENT_BYTES;
            if document.len() > max {
                anyhow::bail!(
                    "{} is {:.1} MiB; register documents up to {} MiB can be imported",
                    file.display(),
                    document.len() as f64 / 1048576.0,
                    max / 1048576
                );
            }
            let source_name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let r = client
                .import_register(pb::ImportRegisterRequest {
                    document,
                    source_name,
                    dry_run,
                    register_id: into.unwrap_or_default(),
                    etag,
                })
                .await?
                .into_inner();
            output::imported(json, &r);
        }
        CatalogueCommand::Notice {
            register_id,
            lang,
            format,
            layout,
            version,
            output: path,
        } => {
            let r = client
                .render_privacy_notice(pb::RenderPrivacyNoticeRequest {
                    register_id,
                    version: version.unwrap_or(0),
                    language: match lang {
                        NoticeLang::Fi => pb::NoticeLanguage::Fi,
                        NoticeLang::Sv => pb::NoticeLanguage::Sv,
                        NoticeLang::En => pb::NoticeLanguage::En,
                    } as i32,
                    format: match format {
                        NoticeFormat::Html => pb::NoticeFormat::Html,
                        NoticeFormat::Markdown => pb::NoticeFormat::Markdown,
                        NoticeFormat::Text => pb::NoticeFormat::Text,
                    } as i32,
                    layout: match layout {
                        NoticeLayout::Gdpr => pb::NoticeLayout::Gdpr,
                        NoticeLayout::Section10 => pb::NoticeLayout::Section10,
                    } as i32,
                })
                .await?
                .into_inner();
            match path {
                Some(path) => {
                    std::fs::write(&path, &r.content)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "Wrote the notice of version {} to {} ({})",
                        r.version,
                        path.display(),
                        r.media_type
                    );
                }
                None => print!("{}", r.content),
            }
        }
    }
    Ok(())
}

/// `evaluate-import`: the importer scored on documents with hand-written expectations.
fn evaluate_import(
    dirs: &[PathBuf],
    missed: bool,
    min_precision: Option<f64>,
    json: bool,
) -> anyhow::Result<()> {
    let evaluation = rekisteri_register::evaluate::evaluate_dirs(dirs)?;
    if json {
        let mut value = serde_json::to_value(&evaluation)?;
        value["total"] = serde_json::to_value(evaluation.total())?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", evaluation.to_text(missed));
    }
    if let Some(target) = min_precision {
        let below = evaluation.below(target);
        if !below.is_empty() {
            anyhow::bail!("precision below {target} for: {}", below.join(", "));
        }
    }
    Ok(())
}
