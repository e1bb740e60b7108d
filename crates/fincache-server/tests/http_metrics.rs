//! `/metrics` through real HTTP: the text format is well formed (every sample in a declared
//! family, histograms cumulative with `+Inf` = `_count`), the numbers follow what commands did,
//! `docs/METRICS.md` lists exactly the exported families, and the deployment files hold together:
//! the Grafana dashboard names only exported metrics, Prometheus scrapes the right address, the
//! Dockerfile runs as a non-root user with a health check.

mod http_support;
mod support;

use http_support::HttpServer;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A series' labels without `le`, in order.
type Labels = Vec<(String, String)>;

/// One sample: name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the exposition text: (family → type, samples). Panics on malformed lines.
fn parse(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let mut families = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(helped.insert(name.to_string()), "HELP twice for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            assert!(
                families
                    .insert(name.to_string(), kind.to_string())
                    .is_none(),
                "{line}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment {line}");
        let (series, value) = line.rsplit_once(' ').expect("name and value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                let mut labels = BTreeMap::new();
                for pair in split_labels(body) {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .expect("quoted");
                    labels.insert(k.to_string(), v.to_string());
                }
                (name.to_string(), labels)
            }
        };
        assert!(name.starts_with("fincache_"), "{line}");
        assert!(
            name.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
            "{line}"
        );
        let family = family_of(&name, &families).unwrap_or_else(|| panic!("undeclared {line}"));
        if families[&family] == "counter" {
            assert!(
                family.ends_with("_total"),
                "counter without _total: {family}"
            );
        }
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    (families, samples)
}

/// Splits `a="x",b="y,z"` at the commas outside quotes.
fn split_labels(body: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        parts.push(&body[start..]);
    }
    parts
}

/// The declared family a sample (or a name in a query) belongs to.
fn family_of(name: &str, families: &BTreeMap<String, String>) -> Option<String> {
    if families.contains_key(name) {
        return Some(name.to_string());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (families.get(base).map(String::as_str) == Some("histogram")).then(|| base.to_string())
    })
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

async fn scrape(s: &HttpServer) -> String {
    let r = s.get("/metrics").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_well_formed_and_follow_the_commands() {
    let s = HttpServer::start(&[]);
    let mut c = s.resp();
    for i in 0..5 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let _: () = redis::cmd("SET")
        .arg("ttl")
        .arg(1)
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("x").arg(1).query(&mut c).unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    for _ in 0..3 {
        let _: Option<String> = redis::cmd("GET").arg("k1").query(&mut c).unwrap();
    }
    let _: Option<String> = redis::cmd("GET").arg("missing").query(&mut c).unwrap();
    let _ = redis::cmd("INCR")
        .arg("k1")
        .arg("extra")
        .query::<()>(&mut c);
    let _ = redis::cmd("LPUSH").arg("k1").arg("v").query::<()>(&mut c);
    let _: () = redis::cmd("PSUBSCRIBE")
        .arg("p*")
        .query(&mut s.resp())
        .unwrap_or(());
    s.get("/health").await;
    s.get("/api/v1/keys/k2").await;
    s.get("/api/v1/keys/nope").await;
    s.get("/no/such/route").await;

    let text = scrape(&s).await;
    let (families, samples) = parse(&text);
    let v = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels);

    assert_eq!(v("fincache_db_keys", &[("db", "0")]), Some(6.0));
    assert_eq!(v("fincache_db_keys", &[("db", "3")]), Some(1.0));
    assert_eq!(v("fincache_db_keys", &[("db", "15")]), Some(0.0));
    assert_eq!(v("fincache_db_keys_expiring", &[("db", "0")]), Some(1.0));
    // Four GETs over RESP and two over HTTP (the route runs GET); two of them missed.
    assert_eq!(v("fincache_commands_total", &[("cmd", "get")]), Some(6.0));
    assert_eq!(
        v("fincache_command_duration_seconds_count", &[("cmd", "get")]),
        Some(6.0)
    );
    assert_eq!(v("fincache_keyspace_misses_total", &[]), Some(2.0));
    assert!(v("fincache_keyspace_hits_total", &[]).unwrap() >= 4.0);
    assert_eq!(
        v(
            "fincache_command_errors_total",
            &[("cmd", "incr"), ("reason", "rejected")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "fincache_command_errors_total",
            &[("cmd", "lpush"), ("reason", "failed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("fincache_error_replies_total", &[("prefix", "WRONGTYPE")]),
        Some(1.0)
    );
    assert!(v("fincache_memory_used_bytes", &[]).unwrap() > 0.0);
    assert!(v("fincache_memory_rss_bytes", &[]).unwrap() > 0.0);
    assert_eq!(
        v("fincache_build_info", &[("redis_version", "7.2.4")]),
        Some(1.0)
    );
    assert_eq!(
        v(
            "fincache_http_requests_total",
            &[
                ("route", "/api/v1/keys/{key}"),
                ("method", "GET"),
                ("status", "404")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        v(
            "fincache_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert_eq!(
        v("fincache_http_requests_total", &[("route", "/health")]),
        Some(1.0)
    );

    // Histograms: cumulative buckets ending in +Inf = _count.
    for (family, kind) in &families {
        if kind != "histogram" {
            continue;
        }
        let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le: f64 = match s.labels["le"].as_str() {
                "+Inf" => f64::INFINITY,
                x => x.parse().unwrap(),
            };
            let key: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, s.value));
        }
        assert!(!series.is_empty(), "{family} has no series");
        for (labels, buckets) in series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family} {labels:?}"
            );
            let (last_le, last) = *buckets.last().unwrap();
            assert!(last_le.is_infinite());
            let count = samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_count")
                        && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
                })
                .unwrap();
            assert_eq!(count.value, last, "{family} {labels:?}");
        }
    }
}

/// The exported family names (from a server that has served commands and HTTP requests).
async fn exported_families() -> BTreeMap<String, String> {
    let s = HttpServer::start(&[]);
    let mut c = s.resp();
    let _: () = redis::cmd("SET").arg("a").arg(1).query(&mut c).unwrap();
    s.get("/health").await;
    parse(&scrape(&s).await).0
}

#[tokio::test]
async fn docs_list_exactly_the_exported_metrics() {
    let families = exported_families().await;
    let doc = std::fs::read_to_string(repo_root().join("docs/METRICS.md")).unwrap();
    let documented: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `fincache_"))
        .map(|rest| format!("fincache_{}", rest.split('`').next().unwrap()))
        .collect();
    let exported: BTreeSet<String> = families.keys().cloned().collect();
    assert_eq!(documented, exported, "docs/METRICS.md and /metrics differ");
    // The documented type matches the exported one.
    for line in doc.lines().filter(|l| l.starts_with("| `fincache_")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        assert_eq!(cells[2], families[name], "type of {name}");
    }
}

/// Every `fincache_…` name a PromQL expression uses.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("fincache_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn all_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "expr" {
                    out.push(v.as_str().expect("expr is a string").to_string());
                } else {
                    all_exprs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| all_exprs(i, out)),
        _ => {}
    }
}

#[tokio::test]
async fn grafana_dashboard_uses_only_exported_metrics() {
    let families = exported_families().await;
    let deploy = repo_root().join("deploy");
    let text = std::fs::read_to_string(deploy.join("grafana/dashboards/fincache.json")).unwrap();
    let dash: Value = serde_json::from_str(&text).expect("the Grafana dashboard is JSON");
    assert_eq!(dash["uid"], "fincache");
    assert!(dash["schemaVersion"].as_u64().unwrap() >= 36);
    let panels = dash["panels"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        for k in ["x", "y", "w", "h"] {
            assert!(p["gridPos"][k].is_u64(), "{p}");
        }
        if p["type"] != "row" {
            assert_eq!(
                p["datasource"],
                json!({"type": "prometheus", "uid": "prometheus"})
            );
            assert!(!p["targets"].as_array().unwrap().is_empty());
        }
    }
    let mut exprs = Vec::new();
    all_exprs(&dash, &mut exprs);
    assert!(exprs.len() >= 20);
    let mut used = BTreeSet::new();
    for e in &exprs {
        let names = metric_names(e);
        assert!(!names.is_empty(), "{e} names no FinCache metric");
        for n in names {
            let family = family_of(&n, &families)
                .unwrap_or_else(|| panic!("{e}: {n} is not exported by /metrics"));
            used.insert(family);
        }
    }
    // The dashboard covers every family.
    let missing: Vec<_> = families.keys().filter(|f| !used.contains(*f)).collect();
    assert!(missing.is_empty(), "not on the dashboard: {missing:?}");

    // The provisioned data source is the one the panels name.
    let ds: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(deploy.join("grafana/provisioning/datasources/prometheus.yml"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(ds["datasources"][0]["uid"].as_str(), Some("prometheus"));
    assert_eq!(
        ds["datasources"][0]["url"].as_str(),
        Some("http://prometheus:9090")
    );
    let provider: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(deploy.join("grafana/provisioning/dashboards/fincache.yml"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        provider["providers"][0]["options"]["path"].as_str(),
        Some("/var/lib/grafana/dashboards")
    );
}

#[test]
fn prometheus_compose_and_dockerfile_hold_together() {
    let deploy = repo_root().join("deploy");
    let read = |f: &str| std::fs::read_to_string(deploy.join(f)).unwrap();
    let prom: serde_yaml::Value = serde_yaml::from_str(&read("prometheus.yml")).unwrap();
    let job = &prom["scrape_configs"][0];
    assert_eq!(job["metrics_path"].as_str(), Some("/metrics"));
    assert_eq!(
        job["static_configs"][0]["targets"][0].as_str(),
        Some("fincache:8080")
    );

    let compose: serde_yaml::Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    let names: BTreeSet<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["fincache", "grafana", "prometheus"]));
    let fin = &compose["services"]["fincache"];
    assert_eq!(
        fin["build"]["dockerfile"].as_str(),
        Some("deploy/Dockerfile")
    );
    let ports: Vec<&str> = fin["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(ports.contains(&"8080:8080") && ports.contains(&"6379:6379"));
    // Every file mounted from deploy/ exists.
    for svc in ["prometheus", "grafana"] {
        for v in compose["services"][svc]["volumes"].as_sequence().unwrap() {
            let src = v.as_str().unwrap().split(':').next().unwrap();
            if let Some(rel) = src.strip_prefix("./") {
                assert!(deploy.join(rel).exists(), "{svc} mounts missing {src}");
            }
        }
    }

    let docker = read("Dockerfile");
    let lines: Vec<&str> = docker.lines().map(str::trim).collect();
    assert!(
        lines.iter().filter(|l| l.starts_with("FROM ")).count() >= 2,
        "multi-stage"
    );
    assert!(lines.iter().any(|l| l.starts_with("COPY --from=build ")));
    let user = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(
        !user.contains("root") && !user.ends_with(" 0"),
        "runs as root: {user}"
    );
    assert!(docker.contains("HEALTHCHECK") && docker.contains("http://127.0.0.1:8080/health"));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("EXPOSE ") && l.contains("8080")));
    // The flags the image passes exist.
    let cmd = lines.iter().rfind(|l| l.starts_with("CMD [")).unwrap();
    let args: Vec<String> = serde_json::from_str(cmd.trim_start_matches("CMD ")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fincache"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(help.contains(&format!("  {flag} ")), "unknown flag {flag}");
    }
}
