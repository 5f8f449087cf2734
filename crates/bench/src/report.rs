//! The results: one JSON document, a Markdown table per database, and an SVG chart of latency
//! against offered load.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::load::Measured;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub started: String,
    pub machine: Machine,
    pub quick: bool,
    /// Run under `perf record` (`--perf`): every service figure is slowed by the profiler.
    pub profiled: bool,
    pub seconds_per_workload: f64,
    /// `release`, or `debug` (figures meaningless: a smoke test).
    pub build: &'static str,
    /// The groups of workloads measured (`--only`); empty for all.
    pub only: Vec<String>,
    /// Callers of the single-item workloads (`--clients`) and of the batches (`--batch-clients`).
    pub clients: usize,
    pub batch_clients: usize,
    pub databases: Vec<DatabaseRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
    pub cpu: String,
    pub kernel: String,
}

impl Machine {
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(0.0, |kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0),
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_default(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRun {
    pub database: String,
    /// Resident memory of each process once started and set up, before any load, MiB.
    pub idle_memory_mib: BTreeMap<String, f64>,
    /// The anonymous part of `idle_memory_mib` (heap and stacks, not mapped files), MiB.
    pub idle_anonymous_mib: BTreeMap<String, f64>,
    pub workloads: Vec<Workload>,
    /// GetSubject at offered loads: the latency chart's points.
    pub offered_load: Vec<LoadPoint>,
    /// Whether every acknowledged disclosure reached the stream.
    pub stream_holds_every_acknowledged_disclosure: Option<bool>,
    /// PostgreSQL ran with autovacuum off, and the harness vacuumed every 30 s in its place.
    pub harness_vacuums: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    /// `ceiling` for the machine's own limits; otherwise the service measured.
    pub kind: String,
    /// The process whose CPU time and peak memory the table shows for this row.
    pub process: String,
    pub clients: usize,
    /// Subjects in the customer service when it ran, where that matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjects: Option<u64>,
    #[serde(flatten)]
    pub measured: Measured,
    /// CPU seconds each process used during the run.
    pub cpu_seconds: BTreeMap<String, f64>,
    /// Peak resident memory of each process during the run, MiB.
    pub peak_rss_mib: BTreeMap<String, f64>,
    /// This workload's items per second as a fraction of each ceiling's.
    pub ratios: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadPoint {
    pub offered_per_second: f64,
    #[serde(flatten)]
    pub measured: Measured,
}

fn number(x: f64) -> String {
    if x >= 100.0 {
        let whole = x.round() as u64;
        let s = whole.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Rekisteri benchmark, {} ({} cores, {} GiB, {}; Linux {}){}{}{}, {} s per workload, {} clients ({} for batches)\n",
            self.started,
            self.machine.cores,
            self.machine.memory_gib,
            self.machine.cpu,
            self.machine.kernel,
            match (self.quick, self.profiled) {
                (_, true) => ", --perf (figures slowed by the profiler)",
                (true, false) => ", --quick",
                (false, false) => "",
            },
            if self.build == "debug" {
                ", debug build (figures meaningless)"
            } else {
                ""
            },
            if self.only.is_empty() {
                String::new()
            } else {
                format!(", --only {}", self.only.join(","))
            },
            self.seconds_per_workload,
            self.clients,
            self.batch_clients
        );
        for run in &self.databases {
            out += &format!("\n### {}\n\n", run.database);
            out += "| workload | clients | subjects | items/s | p50 ms | p90 ms | p99 ms | max ms | errors | of ceiling | process | CPU s | peak RSS MiB |\n";
            out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|\n";
            for w in &run.workloads {
                let ratios = w
                    .ratios
                    .iter()
                    .map(|(k, v)| format!("{v:.2} of {k}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let service = w.process.as_str();
                out += &format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    w.name,
                    w.clients,
                    w.subjects.map(|n| number(n as f64)).unwrap_or_default(),
                    number(w.measured.items_per_second),
                    number(w.measured.p50_ms),
                    number(w.measured.p90_ms),
                    number(w.measured.p99_ms),
                    number(w.measured.max_ms),
                    w.measured.errors,
                    ratios,
                    service,
                    w.cpu_seconds
                        .get(service)
                        .map(|c| format!("{c:.2}"))
                        .unwrap_or_default(),
                    w.peak_rss_mib
                        .get(service)
                        .map(|m| format!("{m:.1}"))
                        .unwrap_or_default(),
                );
            }
            out += "\nIdle memory (resident MiB, in brackets its anonymous part: heap and stacks, \
                     the rest being mapped files, mostly the binary's shared code): ";
            out += &run
                .idle_memory_mib
                .iter()
                .map(|(k, v)| match run.idle_anonymous_mib.get(k) {
                    Some(a) => format!("{k} {v:.1} ({a:.1})"),
                    None => format!("{k} {v:.1}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            out += "\n";
            if run.harness_vacuums {
                out += "PostgreSQL had autovacuum off; the harness ran VACUUM (ANALYZE) every 30 s in its place.\n";
            }
            if let Some(holds) = run.stream_holds_every_acknowledged_disclosure {
                out += &format!(
                    "Every acknowledged disclosure on REKISTERI_DISCLOSURES: {}\n",
                    if holds { "yes" } else { "NO" }
                );
            }
            if !run.offered_load.is_empty() {
                out += "\nGetSubject at offered load (open loop):\n\n| offered/s | answered/s | p50 ms | p99 ms | errors |\n|---:|---:|---:|---:|---:|\n";
                for p in &run.offered_load {
                    out += &format!(
                        "| {} | {} | {} | {} | {} |\n",
                        number(p.offered_per_second),
                        number(p.measured.items_per_second),
                        number(p.measured.p50_ms),
                        number(p.measured.p99_ms),
                        p.measured.errors
                    );
                }
            }
        }
        out
    }

    /// p50 and p99 latency of GetSubject against offered load, one pair of lines per database.
    pub fn chart(&self, path: &Path) -> anyhow::Result<()> {
        use plotters::prelude::*;
        let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let points: Vec<&LoadPoint> = self
            .databases
            .iter()
            .flat_map(|d| &d.offered_load)
            .collect();
        let max_x = points
            .iter()
            .map(|p| p.offered_per_second)
            .fold(1.0, f64::max)
            * 1.05;
        let max_y = points.iter().map(|p| p.measured.p99_ms).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "GetSubject: latency against offered load",
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
        chart
            .configure_mesh()
            .x_desc("offered load, calls/s")
            .y_desc("latency, ms")
            .draw()?;
        let colours = [BLUE, RED, GREEN, MAGENTA];
        for (i, run) in self.databases.iter().enumerate() {
            let colour = colours[i % colours.len()];
            for (label, quantile, style) in [
                ("p50", 0.5, colour.stroke_width(2)),
                ("p99", 0.99, colour.mix(0.5).stroke_width(2)),
            ] {
                let series: Vec<(f64, f64)> = run
                    .offered_load
                    .iter()
                    .map(|p| {
                        let y = if quantile < 0.9 {
                            p.measured.p50_ms
                        } else {
                            p.measured.p99_ms
                        };
                        (p.offered_per_second, y)
                    })
                    .collect();
                chart
                    .draw_series(LineSeries::new(series.clone(), style))?
                    .label(format!("{} {label}", run.database))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                chart.draw_series(
                    series
                        .into_iter()
                        .map(|p| Circle::new(p, 3, style.filled())),
                )?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    }
}
