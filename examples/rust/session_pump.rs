//! One websocket session: a writer task drains the outbound queue into the socket, the
//! reader runs inline, and a handle type lets the rest of the server talk to the session.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::{tungstenite::Message, WebSocketStream};

type Ws = WebSocketStream<TcpStream>;

/// What the rest of the server holds for a live session.
pub struct SessionHandle {
    outbound: mpsc::Sender<Message>,
    writer: JoinHandle<()>,
}

impl SessionHandle {
    pub fn start(ws: Ws, events: mpsc::Sender<String>) -> Self {
        let (sink, stream) = ws.split();
        let (outbound, queue) = mpsc::channel(64);
        let writer = tokio::spawn(write_loop(sink, queue));
        tokio::spawn(read_loop(stream, events));
        SessionHandle { outbound, writer }
    }

    pub async fn send(&self, msg: Message) -> bool {
        self.outbound.send(msg).await.is_ok()
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        // Kills the writer mid-queue: no Close frame, queued messages are lost.
        self.writer.abort();
    }
}

async fn write_loop(mut sink: SplitSink<Ws, Message>, mut queue: mpsc::Receiver<Message>) {
    while let Some(msg) = queue.recv().await {
        if sink.send(msg).await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

/// Forwards text frames to the application; when the application is behind, the frame is
/// skipped rather than the session ended.
async fn read_loop(mut stream: SplitStream<Ws>, events: mpsc::Sender<String>) {
    while let Some(Ok(msg)) = stream.next().await {
        if let Message::Text(text) = msg {
            match events.try_send(text.to_string()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => tracing::warn!("application busy; frame skipped"),
                Err(mpsc::error::TrySendError::Closed(_)) => break,
            }
        }
    }
}

/// Runs a session to completion: whichever half ends first, the other one is aborted.
pub async fn run_session(ws: Ws) {
    let (sink, mut stream) = ws.split();
    let (outbound, queue) = mpsc::channel(64);
    let mut writer = tokio::spawn(write_loop(sink, queue));
    let mut reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match outbound.try_send(msg) {
                Ok(()) => {}
                Err(_) => return,
            }
        }
    });
    tokio::select! {
        _ = &mut writer => reader.abort(),
        _ = &mut reader => writer.abort(),
    }
}
