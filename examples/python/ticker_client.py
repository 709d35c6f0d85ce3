"""A price-ticker client: subscribes to a feed and hands ticks to the application.

`run_once` is the session as it is often first written (WS005: the first dropped
connection ends the ticker for good); `run_forever` is the same session inside
websockets' reconnect iterator, which retries with exponential backoff.
"""

import asyncio
import json
from collections.abc import Callable

import websockets

SUBSCRIBE = json.dumps({"op": "subscribe", "channel": "ticker"})


async def run_once(url: str, on_tick: Callable[[dict], None]) -> None:
    async with websockets.connect(url) as ws:
        await ws.send(SUBSCRIBE)
        async for raw in ws:  # WS005: ConnectionClosed ends the loop and nothing reconnects
            on_tick(json.loads(raw))


async def run_forever(url: str, on_tick: Callable[[dict], None]) -> None:
    async for ws in websockets.connect(url):
        try:
            await ws.send(SUBSCRIBE)
            async for raw in ws:
                on_tick(json.loads(raw))
        except websockets.ConnectionClosed:
            continue  # the iterator reconnects with backoff


if __name__ == "__main__":
    asyncio.run(run_forever("wss://feed.example.com/v1", print))
