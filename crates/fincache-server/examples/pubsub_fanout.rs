//! PUBLISH fan-out load for `bench/bench.py`: N subscriber connections on one channel, one
//! publisher pipelining M messages; prints deliveries per second (N × M / elapsed).
//!
//! Usage: `pubsub_fanout PORT SUBSCRIBERS MESSAGES` — works against FinCache and redis-server
//! alike, so both are measured with the same client. Subscribers only count messages (a byte
//! search for the RESP2 push header), so the client costs far less per message than the server.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHANNEL: &str = "bench:fanout";
const PAYLOAD: &str = "AAPL 189.25 100 1700000000000";
const MARKER: &[u8] = b"$7\r\nmessage\r\n";

fn arg(n: usize) -> anyhow::Result<u64> {
    let v = std::env::args()
        .nth(n)
        .ok_or_else(|| anyhow::anyhow!("usage: pubsub_fanout PORT SUBSCRIBERS MESSAGES"))?;
    Ok(v.parse()?)
}

async fn subscriber(
    port: u16,
    expected: u64,
    ready: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    let cmd = format!(
        "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{}\r\n",
        CHANNEL.len(),
        CHANNEL
    );
    s.write_all(cmd.as_bytes()).await?;
    let mut buf = vec![0u8; 64 * 1024];
    // The subscribe confirmation ends with the count `:1\r\n`.
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b":1\r\n") {
        let n = s.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "closed before subscribing");
        head.extend_from_slice(&buf[..n]);
    }
    ready.send(()).await?;
    drop(ready);
    let finder = memchr::memmem::Finder::new(MARKER);
    let mut seen = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    while seen < expected {
        let n = s.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "closed after {seen} messages");
        carry.extend_from_slice(&buf[..n]);
        let mut last_end = 0;
        for pos in finder.find_iter(&carry) {
            seen += 1;
            last_end = pos + MARKER.len();
        }
        // Keep a tail that could hold the start of a marker split across reads.
        let keep_from = last_end.max(carry.len().saturating_sub(MARKER.len() - 1));
        carry.drain(..keep_from);
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let port = arg(1)? as u16;
    let subscribers = arg(2)?;
    let messages = arg(3)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (tx, mut rx) = tokio::sync::mpsc::channel(subscribers as usize);
        let mut tasks = Vec::new();
        for _ in 0..subscribers {
            tasks.push(tokio::spawn(subscriber(port, messages, tx.clone())));
        }
        drop(tx);
        for _ in 0..subscribers {
            rx.recv()
                .await
                .ok_or_else(|| anyhow::anyhow!("a subscriber failed"))?;
        }
        let mut publisher = TcpStream::connect(("127.0.0.1", port)).await?;
        let one = format!(
            "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{}\r\n${}\r\n{}\r\n",
            CHANNEL.len(),
            CHANNEL,
            PAYLOAD.len(),
            PAYLOAD
        );
        let batch = one.repeat(100);
        let started = Instant::now();
        let mut sent = 0;
        let mut sink = vec![0u8; 64 * 1024];
        while sent < messages {
            let n = (messages - sent).min(100);
            let bytes = if n == 100 {
                batch.clone()
            } else {
                one.repeat(n as usize)
            };
            publisher.write_all(bytes.as_bytes()).await?;
            // Read the integer replies of this batch before sending the next (bounded pipeline).
            let mut lines = 0;
            while lines < n {
                let r = publisher.read(&mut sink).await?;
                anyhow::ensure!(r > 0, "publisher closed");
                lines += sink[..r].iter().filter(|&&b| b == b'\n').count() as u64;
            }
            sent += n;
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(120), t).await???;
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{:.0}", (subscribers * messages) as f64 / secs);
        Ok(())
    })
}
