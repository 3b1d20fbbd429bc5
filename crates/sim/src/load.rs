//! A load generator for the gateway benchmark: many WebSocket connections that send one OCPP message
//! at a time and time the answer. The same client drives the node and a bare echo server, so the two
//! are measured alike.

use futures::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use yawc::{Frame, OpCode, Options, WebSocket};

/// One open connection of the load generator.
pub struct LoadConnection {
    socket: WebSocket<TcpStream>,
}

/// The source address for the `index`-th connection: one loopback address per 25,000 connections,
/// since one source address has about 28,000 ephemeral ports towards one server port.
pub fn source_address(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, ((index / 25_000) / 250) as u8, 1 + ((index / 25_000) % 250) as u8))
}

impl LoadConnection {
    /// Opens `ws://<server><path>` from `local`, offering `ocpp1.6`.
    pub async fn open(server: SocketAddr, path: &str, local: IpAddr) -> Result<LoadConnection, String> {
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket.bind(SocketAddr::new(local, 0)).map_err(|e| format!("bind {local}: {e}"))?;
        let tcp = socket.connect(server).await.map_err(|e| format!("connect: {e}"))?;
        let url: url::Url = format!("ws://{server}{path}").parse().map_err(|e| format!("{e}"))?;
        let request = yawc::HttpRequest::builder().header("Sec-WebSocket-Protocol", "ocpp1.6");
        let options = Options::default().with_read_buffer_capacity(1024).with_write_buffer_capacity(1024);
        let socket = WebSocket::handshake_with_request(url, tcp, options, request).await.map_err(|e| e.to_string())?;
        Ok(LoadConnection { socket })
    }

    /// Sends `text` and returns how long the first text message back took.
    pub async fn round_trip(&mut self, text: String) -> Result<(Duration, String), String> {
        let started = Instant::now();
        self.socket.send(Frame::text(text)).await.map_err(|e| e.to_string())?;
        loop {
            let frame = self.socket.next().await.ok_or("connection closed")?;
            if frame.opcode() == OpCode::Text {
                return Ok((started.elapsed(), frame.as_str().to_owned()));
            }
        }
    }
}

/// Latencies of one run, in microseconds.
#[derive(Debug, Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        self.0.push(latency.as_micros().min(u128::from(u32::MAX)) as u32);
    }

    pub fn merge(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (0–100) in milliseconds.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        f64::from(self.0[rank]) / 1000.0
    }
}
