"""The Python fixes, proven by behaviour against real servers on 127.0.0.1.

Each program under tests/fixtures/behaviour/ has the bug its rule reports. The test fixes a
copy with the installed ``lint-ws check --unsafe-fixes``, then runs the program before and
after the fix against a real websockets (or aiohttp) server and induces the fault: a full
queue, a close between the state check and the send, a server restart. Before the fix
the session dies; after it, the session survives. Every wait is bounded by DEADLINE and
synchronised on events, lines or process exit, never on sleeps.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from aiohttp import WSMsgType, web
from websockets.asyncio.server import serve

from cli_runner import run_cli

PROGRAMS = Path(__file__).parent / "fixtures" / "behaviour"
DEADLINE = 30.0  # seconds, for any one wait; a healthy run takes well under one
# websockets reads its reconnect backoff from the environment when it is imported; the
# defaults wait seconds before a reconnect (fine in production, slow in a test).
FAST_BACKOFF = {
    "WEBSOCKETS_BACKOFF_INITIAL_DELAY": "0.05",
    "WEBSOCKETS_BACKOFF_MIN_DELAY": "0.05",
    "WEBSOCKETS_BACKOFF_MAX_DELAY": "0.2",
    "WEBSOCKETS_BACKOFF_FACTOR": "1.5",
}


class Versions(NamedTuple):
    before: Path
    after: Path


def before_and_after(tmp_path: Path, program: str, rule_id: str) -> Versions:
    """The program as written, and a copy fixed by lint-ws itself (``--select rule_id``)."""
    versions = []
    for version in ("before", "after"):
        directory = tmp_path / version
        directory.mkdir()
        versions.append(Path(shutil.copy(PROGRAMS / program, directory / program)))
    before, after = versions
    run = run_cli("check", "--unsafe-fixes", "--no-cache", "--select", rule_id, str(after), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert after.read_text() != before.read_text(), f"lint-ws offered no {rule_id} fix for {program}"
    return Versions(before, after)


class Outcome(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


async def run_program(program: Path, target: str, env: dict | None = None) -> Outcome:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(program), target,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})},
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), DEADLINE)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return Outcome(process.returncode, stdout.decode(), stderr.decode())


def port_of(server) -> int:
    return server.sockets[0].getsockname()[1]


# -- WS001: a full outbox -----------------------------------------------------------------------


async def outbox_burst(program: Path) -> tuple[Outcome, list[str]]:
    """The program pushes three updates into an outbox of one before its writer runs, then
    asks for an acknowledgement; returns its outcome and what the server received."""
    received: list[str] = []
    session_over = asyncio.Event()

    async def handler(websocket) -> None:
        try:
            async for message in websocket:
                received.append(message)
                if message == "still here?":
                    await websocket.send("ack")
        finally:
            session_over.set()

    async with serve(handler, "127.0.0.1", 0) as server:
        outcome = await run_program(program, f"ws://127.0.0.1:{port_of(server)}")
        await asyncio.wait_for(session_over.wait(), DEADLINE)
    return outcome, received


def test_ws001_fix_skips_the_message_instead_of_disconnecting(tmp_path):
    versions = before_and_after(tmp_path, "ws001_outbox_burst.py", "WS001")

    died, received = asyncio.run(outbox_burst(versions.before))
    assert died.returncode != 0 and "ConnectionClosed" in died.stderr
    assert "still here?" not in received

    survived, received = asyncio.run(outbox_burst(versions.after))
    assert survived.returncode == 0, survived.stderr
    assert survived.stdout.split() == ["ack"]
    # The two updates that found the outbox full were skipped; the session went on.
    assert sorted(received) == ["still here?", "update 0"]


# -- WS004: a close between the state check and the send ----------------------------------------


async def relay_against_websockets(program: Path) -> tuple[Outcome, list[str]]:
    """The server closes the connection after the first message."""
    received: list[str] = []

    async def handler(websocket) -> None:
        received.append(await websocket.recv())
        await websocket.close()

    async with serve(handler, "127.0.0.1", 0) as server:
        outcome = await run_program(program, f"ws://127.0.0.1:{port_of(server)}")
    return outcome, received


async def relay_against_aiohttp(program: Path) -> tuple[Outcome, list[str]]:
    """An aiohttp server that closes the connection after the first message."""
    received: list[str] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        message = await websocket.receive()
        if message.type is WSMsgType.TEXT:
            received.append(message.data)
        await websocket.close()
        return websocket

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        outcome = await run_program(program, f"http://127.0.0.1:{port}/ws")
    finally:
        await runner.cleanup()
    return outcome, received


@pytest.mark.parametrize(
    ("program", "relay", "error"),
    [
        ("ws004_relay_websockets.py", relay_against_websockets, "ConnectionClosed"),
        ("ws004_relay_aiohttp.py", relay_against_aiohttp, "ConnectionResetError"),
    ],
)
def test_ws004_fix_handles_the_close_between_check_and_send(tmp_path, program, relay, error):
    versions = before_and_after(tmp_path, program, "WS004")

    died, received = asyncio.run(relay(versions.before))
    assert died.returncode != 0 and error in died.stderr
    assert "relay finished" not in died.stdout
    assert received == ["first"]

    survived, received = asyncio.run(relay(versions.after))
    assert survived.returncode == 0, survived.stderr
    assert survived.stdout.split("\n")[0] == "relay finished"
    assert received == ["first"]


# -- WS005: a server restart --------------------------------------------------------------------


async def ticker_across_a_restart(program: Path) -> tuple[str, str]:
    """The server sends "one", restarts on the same port, then sends "two" to whoever
    connects. Returns the program's first line and the line it printed after the
    restart (empty when it had exited instead)."""

    def greeter(text: str):
        async def handler(websocket) -> None:
            await websocket.send(text)
            await websocket.wait_closed()

        return handler

    first = await serve(greeter("one"), "127.0.0.1", 0)
    port = port_of(first)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(program), f"ws://127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env={**os.environ, **FAST_BACKOFF},
    )
    second = None
    try:
        before_restart = await asyncio.wait_for(process.stdout.readline(), DEADLINE)
        first.close()  # closes every connection (1001 going away) and the listening socket
        await asyncio.wait_for(first.wait_closed(), DEADLINE)
        second = await serve(greeter("two"), "127.0.0.1", port)
        after_restart = await asyncio.wait_for(process.stdout.readline(), DEADLINE)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        for server in (first, second):
            if server is not None:
                server.close()
                await server.wait_closed()
    return before_restart.decode().strip(), after_restart.decode().strip()


def test_ws005_fix_reconnects_after_a_server_restart(tmp_path):
    versions = before_and_after(tmp_path, "ws005_ticker_websockets.py", "WS005")

    assert asyncio.run(ticker_across_a_restart(versions.before)) == ("one", "")
    assert asyncio.run(ticker_across_a_restart(versions.after)) == ("one", "two")


def test_the_ws005_fix_uses_the_exception_name_the_file_imports(tmp_path):
    """A file that imports only ``connect`` gains the import of ``ConnectionClosed``."""
    program = tmp_path / "ticker.py"
    program.write_text(
        (PROGRAMS / "ws005_ticker_websockets.py")
        .read_text()
        .replace("import websockets\n", "from websockets import connect\n")
        .replace("websockets.connect(", "connect(")
    )
    run = run_cli("check", "--unsafe-fixes", "--no-cache", "--select", "WS005", str(program), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    fixed = program.read_text()
    assert "from websockets import connect\nfrom websockets.exceptions import ConnectionClosed\n" in fixed
    assert "    async for websocket in connect(uri):\n" in fixed
    assert "        except ConnectionClosed:\n            continue\n" in fixed
    assert asyncio.run(ticker_across_a_restart(program)) == ("one", "two")
