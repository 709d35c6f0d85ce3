//! A session handle shared by the tasks of a chat client. `send_text` checks a closed flag
//! and then sends (WS004: the socket can close in between); `send_text_checked` makes the
//! send's own error the signal.
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

#[derive(Debug)]
pub enum SendError {
    Closed,
}

pub struct SessionHandle {
    closed: AtomicBool,
    sink: Mutex<Sink>,
}

impl SessionHandle {
    pub async fn send_text(&self, text: String) -> Result<(), SendError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        let mut sink = self.sink.lock().await;
        sink.send(Message::text(text)).await.expect("session is open"); // WS004
        Ok(())
    }

    pub async fn send_text_checked(&self, text: String) -> Result<(), SendError> {
        let mut sink = self.sink.lock().await;
        sink.send(Message::text(text)).await.map_err(|_| {
            self.closed.store(true, Ordering::Release);
            SendError::Closed
        })
    }
}
