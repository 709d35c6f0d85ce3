//! A price-ticker client: subscribes to a feed and forwards ticks to the application.
//! `run` is the session as it is often first written (WS005: it dies on the first hiccup);
//! `run_forever` is the same session wrapped in a reconnect loop with backoff.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

pub struct Tick {
    pub symbol: String,
    pub price: f64,
}

pub async fn run(url: &str, ticks: mpsc::Sender<Tick>) -> anyhow::Result<()> {
    let (ws, _) = connect_async(url).await?;
    let (mut write, mut read) = ws.split();
    write.send(Message::text(r#"{"op":"subscribe","channel":"ticker"}"#)).await?;
    loop {
        match read.next().await {
            Some(Ok(Message::Text(text))) => {
                if let Some(tick) = parse_tick(&text) {
                    if ticks.send(tick).await.is_err() {
                        return Ok(()); // the application stopped listening: a deliberate end
                    }
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::error!(%error, "ticker feed failed");
                break; // WS005: a dropped connection ends the ticker for good
            }
            None => break,
        }
    }
    Ok(())
}

async fn session(url: &str, ticks: &mpsc::Sender<Tick>) -> anyhow::Result<()> {
    let (mut ws, _) = connect_async(url).await?;
    ws.send(Message::text(r#"{"op":"subscribe","channel":"ticker"}"#)).await?;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            if let Some(tick) = parse_tick(&text) {
                ticks.send(tick).await?;
            }
        }
    }
    Ok(())
}

pub async fn run_forever(url: &str, ticks: mpsc::Sender<Tick>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        match session(url, &ticks).await {
            Ok(()) => backoff = Duration::from_millis(250),
            Err(error) => tracing::warn!(%error, ?backoff, "ticker session ended; reconnecting"),
        }
        if ticks.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

fn parse_tick(text: &str) -> Option<Tick> {
    let (symbol, price) = text.split_once(':')?;
    Some(Tick { symbol: symbol.to_owned(), price: price.trim().parse().ok()? })
}
