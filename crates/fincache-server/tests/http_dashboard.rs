//! The dashboard end to end in a real headless browser: Debian's chromium driven by
//! playwright-core (`tests/browser/dashboard.mjs`): the page loads from the binary's embedded
//! assets, the charts update, a command typed in the console runs, the key it wrote appears in
//! the key browser, and the Pub/Sub monitor receives a message over the WebSocket. The page's
//! screenshot is kept in the target directory (`dashboard.png`) for people to look at.
//!
//! Needs `node`, `/usr/bin/chromium` (or `$CHROMIUM`) and `npm ci` run in `tests/browser`;
//! `.ci/run` installs them. Without them the test says so and passes, except under CI, where
//! it fails.

mod http_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What is missing to run the browser test, if anything.
fn missing_tools() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node".into());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core (npm ci in crates/fincache-server/tests/browser)".into());
    }
    None
}

#[test]
fn dashboard_works_in_headless_chromium() {
    if let Some(missing) = missing_tools() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser test needs {missing}"
        );
        eprintln!("skipping the dashboard browser test: {missing} is missing");
        return;
    }
    let s = http_support::HttpServer::start(&[]);
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let mut child = Command::new("node")
        .current_dir(browser_dir())
        .arg("dashboard.mjs")
        .arg(s.url(""))
        .arg(&screenshot)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run node");
    // Bounded: the script's own waits add up to well under this.
    let deadline = Instant::now() + Duration::from_secs(150);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the browser test did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    for step in [
        "ok: page loads and reaches the API",
        "ok: charts update",
        "ok: console runs commands, with history",
        "ok: key browser finds the key and shows its value",
        "ok: pub/sub monitor receives a published message",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot looks empty"
    );
    // What the browser did went through the command layer like any client.
    let mut c = s.resp();
    let v: String = redis::cmd("GET")
        .arg("browser:greeting")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "hello from chromium");
}
