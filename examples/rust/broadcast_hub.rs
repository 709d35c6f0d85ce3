//! A chat hub: every connected client has a bounded outbound queue drained by its
//! websocket writer task.

use std::collections::HashMap;

use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_tungstenite::tungstenite::Message;

pub type ClientId = u64;

pub struct Hub {
    clients: HashMap<ClientId, mpsc::Sender<Message>>,
}

impl Hub {
    pub fn new() -> Self {
        Hub { clients: HashMap::new() }
    }

    pub fn join(&mut self, id: ClientId) -> mpsc::Receiver<Message> {
        let (tx, rx) = mpsc::channel(32);
        self.clients.insert(id, tx);
        rx
    }

    /// Sends a chat line to everyone. A client whose queue is full at this instant is
    /// dropped from the room, exactly like one whose connection is already gone.
    pub fn broadcast(&mut self, text: &str) {
        let mut gone = Vec::new();
        for (id, tx) in &self.clients {
            match tx.try_send(Message::text(text)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => gone.push(*id),
                Err(TrySendError::Closed(_)) => gone.push(*id),
            }
        }
        for id in gone {
            self.leave(id);
        }
    }

    /// Direct message: any failure, including a momentarily full queue, kicks the client.
    pub fn whisper(&mut self, id: ClientId, text: &str) {
        let Some(tx) = self.clients.get(&id) else { return };
        if tx.try_send(Message::text(text)).is_err() {
            self.leave(id);
        }
    }

    pub fn leave(&mut self, id: ClientId) {
        if self.clients.remove(&id).is_some() {
            tracing::info!(id, "client left");
        }
    }
}
