//! Starting the real `tidings` binary as a child process (for crash tests and benchmarks).
//! Shared with `benches/dispatch` by path.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `binary` (this build's, `env!("CARGO_BIN_EXE_tidings")`, or in the benchmark
/// another build to compare with) with `env` (plus `TIDINGS_LISTEN=127.0.0.1:0`) and
/// returns it with the base URL it printed. The child is killed when dropped.
pub async fn start_tidings(binary: &std::path::Path, env: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(binary)
        .env("TIDINGS_LISTEN", "127.0.0.1:0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the tidings binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let pid = child.id().unwrap_or_default();
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("tidings prints its address within 30 s")
            .unwrap()
            .expect("tidings exited before listening");
        if let Some(address) = line.strip_prefix("Tidings is running on ") {
            break address.trim().to_owned();
        }
    };
    // Keep reading, or the child blocks once the pipe is full. Its warnings and errors go to
    // the test's output, shown when the test fails.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("WARN") || line.contains("ERROR") {
                eprintln!("[tidings pid {pid}] {line}");
            }
        }
    });
    (child, base)
}
