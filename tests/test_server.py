"""``lint-ws server`` end to end: a real LSP client (pytest-lsp) drives the server over stdio.

Nothing here sleeps: a test waits for the message it expects (a diagnostics notification
for a given document version, a log message), and each wait is bounded so that a missing
message fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from cli_runner import lint_ws_executable
from lint_ws.catalogue import all_rules

pytestmark = pytest.mark.asyncio

WAIT_SECONDS = 60  # a bound for a message that should come, not a pause

# A check-then-send (WS004, related location: the check) and a full queue that closes the
# connection (WS001, with an unsafe fix that skips the message instead).
FEED_PY = """\
import asyncio


class Feed:
    def __init__(self, ws):
        self.ws = ws

    async def push(self, update: str) -> None:
        if not self.ws.closed:
            await self.ws.send(update)


async def fan_out(queue: asyncio.Queue, ws, message: str) -> None:
    try:
        queue.put_nowait(message)
    except asyncio.QueueFull:
        await ws.close(code=1013)
"""
WS004_LINE, WS004_CHECK_LINE, WS001_LINE = 9, 8, 14  # 0-based, as LSP counts

# A destructor that aborts the connection's writer, spawned below (WS003).
PUMP_RS = """\
pub struct Session {
    writer: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

impl Session {
    pub fn start(mut ws: WebSocketStream<tokio::net::TcpStream>, mut queue: tokio::sync::mpsc::Receiver<Message>) -> Self {
        let writer = tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                let _ = ws.send(message).await;
            }
        });
        Session { writer }
    }
}

use futures_util::SinkExt;
use tokio_tungstenite::{tungstenite::Message, WebSocketStream};
"""

# The same connection code, cut off in the middle of a call: CPython rejects it.
BROKEN_PY = FEED_PY.replace("await self.ws.send(update)", "await self.ws.send(update")


# --- the client -------------------------------------------------------------------------


def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping every diagnostics notification (not only the latest)
    and waking the tests that wait for one."""
    client = LanguageClient(converter_factory=default_converter)
    own = (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE)
    register_lsp_features(client, {method: f for method, f in DEFAULT_CLIENT_FEATURES.items() if method not in own})
    client.published = []
    client.registrations = []
    client.waiters = []

    def wake() -> None:
        for waiter in client.waiters:
            if not waiter.done():
                waiter.set_result(None)
        client.waiters.clear()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        ls.published.append(params)
        wake()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log(ls: LanguageClient, params: types.LogMessageParams) -> None:
        ls.log_messages.append(params)
        wake()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)
        wake()

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show(ls: LanguageClient, params: types.ShowMessageParams) -> None:
        ls.messages.append(params)
        wake()

    return client


async def until(client: LanguageClient, condition):
    """Wait until ``condition()`` gives something true, checked after every message."""

    async def wait():
        while not (value := condition()):
            waiter = asyncio.get_running_loop().create_future()
            client.waiters.append(waiter)
            await waiter
        return value

    return await asyncio.wait_for(wait(), WAIT_SECONDS)


async def diagnostics(client: LanguageClient, uri: str, version: int | None = None, after: int = 0) -> list[types.Diagnostic]:
    """The first diagnostics published for ``uri`` (for ``version``, when given) among the
    notifications numbered ``after`` and later."""

    def published():
        for params in client.published[after:]:
            if params.uri == uri and (version is None or params.version == version):
                return params
        return None

    return (await until(client, published)).diagnostics


SERVER = ClientServerConfig(server_command=[lint_ws_executable(), "server"], client_factory=make_client)
MARKER_SERVER = ClientServerConfig(
    server_command=[sys.executable, str(Path(__file__).parent / "lsp_marker_server.py")], client_factory=make_client
)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=MARKER_SERVER)
async def marker_client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the configuration search stops here
    return tmp_path


async def start(
    client: LanguageClient, root: Path, options: dict | None = None, capabilities: types.ClientCapabilities | None = None
) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name=root.name)],
            initialization_options=options,
        )
    )


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = from_fs_path(str(path))
    language = "rust" if path.suffix == ".rs" else "python"
    document = types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    return uri


def change_document(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """An unsaved edit: the whole new text, as the client holds it."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """The text after a workspace edit, applied as an editor applies it (the test texts are
    ASCII, so UTF-16 columns are characters)."""
    edits = edit.changes[uri] if edit.changes else [e for change in edit.document_changes for e in change.edits]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        return starts[position.line] + position.character

    for text_edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(text_edit.range.start)] + text_edit.new_text + text[offset(text_edit.range.end) :]
    return text


async def code_actions(
    client: LanguageClient, uri: str, at: types.Range, only: list[str] | None = None
) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=at,
            context=types.CodeActionContext(diagnostics=[], only=only, trigger_kind=types.CodeActionTriggerKind.Invoked),
        )
    )


def codes(found: list[types.Diagnostic]) -> list[str]:
    return sorted(str(diagnostic.code) for diagnostic in found)


# --- diagnostics ----------------------------------------------------------------------


async def test_open_python_document_gets_diagnostics(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    found = await diagnostics(client, uri, version=1)
    assert codes(found) == ["WS001", "WS004"]
    check_then_send = next(d for d in found if d.code == "WS004")
    assert check_then_send.range.start == types.Position(WS004_LINE, 18)
    assert check_then_send.source == "lint-ws"
    assert check_then_send.severity == types.DiagnosticSeverity.Warning
    assert check_then_send.code_description.href == all_rules()["WS004"].help_uri
    assert check_then_send.code_description.href.endswith("/rules/WS004.md")
    assert "relies on the separate check" in check_then_send.message
    [related] = check_then_send.related_information
    assert related.location.uri == uri
    assert related.location.range.start.line == WS004_CHECK_LINE
    assert related.message == "the state check"


async def test_open_rust_document_gets_diagnostics(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "pump.rs", PUMP_RS)
    [finding] = await diagnostics(client, uri, version=1)
    assert finding.code == "WS003"
    assert finding.range.start == types.Position(6, 8)
    assert PUMP_RS.splitlines()[6][finding.range.start.character : finding.range.end.character] == "self.writer.abort()"


async def test_unsaved_edits_are_linted_not_the_file_on_disk(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, uri, version=1)) == ["WS001", "WS004"]
    without_check = FEED_PY.replace("        if not self.ws.closed:\n            await", "        await")
    change_document(client, uri, without_check, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == ["WS001"]
    # Saving lints again; the result is the same text's.
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    after_save = len(client.published)
    change_document(client, uri, FEED_PY, version=3)
    assert codes(await diagnostics(client, uri, version=3, after=after_save)) == ["WS001", "WS004"]


@pytest.mark.parametrize(
    ("offered", "extra_units"),
    [(None, 1), (["utf-8", "utf-16"], 3), (["utf-32"], 0)],
    ids=["utf-16 by default", "utf-8", "utf-32"],
)
async def test_positions_count_the_negotiated_units(client: LanguageClient, project: Path, offered, extra_units):
    capabilities = types.ClientCapabilities(general=types.GeneralClientCapabilities(position_encodings=offered))
    await start(client, project, capabilities=capabilities)
    # One character outside the Basic Multilingual Plane before the call: two UTF-16 code
    # units, four UTF-8 bytes, one code point.
    prefix = '        let _ = "\U0001F50C"; '
    text = PUMP_RS.replace("        self.writer.abort();", prefix + "self.writer.abort();")
    uri = open_document(client, project / "pump.rs", text)
    [finding] = await diagnostics(client, uri, version=1)
    assert finding.range.start == types.Position(6, len(prefix) + extra_units)


async def test_a_coding_cookie_keeps_columns_right(client: LanguageClient, project: Path):
    await start(client, project)
    text = "# -*- coding: latin-1 -*-\n" + FEED_PY.replace("await self.ws.send(update)", "x = 'é'; await self.ws.send(update)")
    path = project / "feed.py"
    uri = from_fs_path(str(path))
    path.write_bytes(text.encode("latin-1"))  # as saved; the editor holds the decoded text
    document = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    check_then_send = next(d for d in await diagnostics(client, uri, version=1) if d.code == "WS004")
    assert check_then_send.range.start == types.Position(WS004_LINE + 1, len("            x = 'é'; await "))


async def test_pull_diagnostics(client: LanguageClient, project: Path):
    pulling = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(diagnostic=types.DiagnosticClientCapabilities())
    )
    await start(client, project, capabilities=pulling)
    uri = open_document(client, project / "feed.py", FEED_PY)
    # Two requests at once share one lint.
    reports = await asyncio.gather(
        *(
            client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri)))
            for _ in range(2)
        )
    )
    for report in reports:
        assert report.kind == "full"
        assert codes(report.items) == ["WS001", "WS004"]
    change_document(client, uri, "import asyncio\n", version=2)
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert codes(report.items) == []


async def test_closing_a_document_clears_its_diagnostics(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    await diagnostics(client, uri, version=1)
    after = len(client.published)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert codes(await diagnostics(client, uri, after=after)) == []


# --- code actions -----------------------------------------------------------------------


async def test_quick_fix_removes_the_finding(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    full_queue = next(d for d in await diagnostics(client, uri, version=1) if d.code == "WS001")
    actions = await code_actions(client, uri, full_queue.range)
    [fix] = [a for a in actions if a.title.startswith("WS001: ")]
    assert fix.kind == types.CodeActionKind.QuickFix
    assert "unsafe" in fix.title and not fix.is_preferred  # the real rule's fix changes behaviour
    assert [d.code for d in fix.diagnostics] == ["WS001"]
    fixed = apply(FEED_PY, fix.edit, uri)
    assert "await ws.close(code=1013)" not in fixed
    change_document(client, uri, fixed, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == ["WS004"]


async def test_allow_action_suppresses_the_finding(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    check_then_send = next(d for d in await diagnostics(client, uri, version=1) if d.code == "WS004")
    actions = await code_actions(client, uri, check_then_send.range)
    [allow] = [a for a in actions if a.title == "Allow WS004 on this line"]
    assert not allow.is_preferred
    allowed = apply(FEED_PY, allow.edit, uri)
    assert allowed.splitlines()[WS004_LINE] == "            await self.ws.send(update)  # lint-ws: allow[WS004]"
    change_document(client, uri, allowed, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == ["WS001"]


async def test_allow_action_in_rust_extends_an_existing_allow(client: LanguageClient, project: Path):
    await start(client, project)
    text = PUMP_RS.replace("self.writer.abort();", "self.writer.abort(); // lint-ws: allow(WS002) -- not a pump")
    uri = open_document(client, project / "pump.rs", text)
    [finding] = await diagnostics(client, uri, version=1)
    [allow] = [a for a in await code_actions(client, uri, finding.range) if a.title.startswith("Allow")]
    allowed = apply(text, allow.edit, uri)
    assert "self.writer.abort(); // lint-ws: allow(WS002, WS003) -- not a pump" in allowed
    change_document(client, uri, allowed, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == []


async def test_fix_all_applies_the_safe_fixes_only(marker_client: LanguageClient, project: Path):
    client = marker_client
    await start(client, project)
    text = "run(safe_target(1))\nrun(risky_target)\nrun(safe_target(2))\n"
    uri = open_document(client, project / "markers.py", text)
    assert codes(await diagnostics(client, uri, version=1)) == ["WS001", "WS001", "WS002"]
    [fix_all] = await code_actions(client, uri, types.Range(types.Position(0, 0), types.Position(0, 0)), only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.lint-ws"
    fixed = apply(text, fix_all.edit, uri)
    assert fixed == "run(fixed_target(\n        1,\n    ))\nrun(risky_target)\nrun(fixed_target(\n        2,\n    ))\n"
    change_document(client, uri, fixed, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == ["WS002"]


async def test_safe_quick_fix_is_preferred(marker_client: LanguageClient, project: Path):
    client = marker_client
    await start(client, project)
    uri = open_document(client, project / "markers.py", "run(safe_target(1))\n")
    [finding] = await diagnostics(client, uri, version=1)
    actions = await code_actions(client, uri, finding.range, only=[types.CodeActionKind.QuickFix])
    assert [(a.title, a.is_preferred) for a in actions] == [
        ("WS001: rewrite safe_target(1)", True),
        ("Allow WS001 on this line", None),
    ]


# --- hover ------------------------------------------------------------------------------


async def test_hover_on_a_finding_shows_the_rule_doc(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    check_then_send = next(d for d in await diagnostics(client, uri, version=1) if d.code == "WS004")
    inside = types.Position(check_then_send.range.start.line, check_then_send.range.start.character + 3)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=inside)
    )
    rule = all_rules()["WS004"]
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith(f"**WS004 {rule.name}** (warning): {rule.summary}")
    assert rule.doc in hover.contents.value
    assert hover.range == check_then_send.range
    elsewhere = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 0))
    )
    assert elsewhere is None


# --- across documents, bad input, configuration --------------------------------------------


async def test_editing_another_document_relints_the_open_ones(client: LanguageClient, project: Path):
    await start(client, project)
    feed = open_document(client, project / "feed.py", FEED_PY)
    first = await diagnostics(client, feed, version=1)
    pump = open_document(client, project / "pump.rs", PUMP_RS)
    await diagnostics(client, pump, version=1)
    after = len(client.published)
    change_document(client, pump, PUMP_RS.replace("abort", "abort_soon"), version=2)
    assert codes(await diagnostics(client, pump, version=2, after=after)) == []
    assert await diagnostics(client, feed, version=1, after=after) == first


async def test_unparsable_buffer_is_logged_once_then_linted_again(client: LanguageClient, project: Path):
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    await diagnostics(client, uri, version=1)
    change_document(client, uri, BROKEN_PY, version=2)
    assert codes(await diagnostics(client, uri, version=2)) == []
    change_document(client, uri, BROKEN_PY + "# still typing\n", version=3)
    assert codes(await diagnostics(client, uri, version=3)) == []
    syntax_errors = [m for m in client.log_messages if "syntax error" in m.message]
    assert [m.type for m in syntax_errors] == [types.MessageType.Error]
    assert syntax_errors[0].message.startswith("lint-ws: feed.py:10: error: syntax error")
    change_document(client, uri, FEED_PY, version=4)
    assert codes(await diagnostics(client, uri, version=4)) == ["WS001", "WS004"]


async def test_configuration_file_is_read_and_reloaded(client: LanguageClient, project: Path):
    config = project / "pyproject.toml"
    config.write_text('[tool.lint-ws]\nignore = ["WS001"]\n', encoding="utf-8")
    await start(client, project)
    uri = open_document(client, project / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, uri, version=1)) == ["WS004"]

    config.write_text('[tool.lint-ws]\nselect = ["WS001"]\n', encoding="utf-8")
    after = len(client.published)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=from_fs_path(str(config)), type=types.FileChangeType.Changed)]
        )
    )
    assert codes(await diagnostics(client, uri, after=after)) == ["WS001"]

    # Saving the configuration in the editor reloads it too; a broken one is reported and
    # the defaults apply meanwhile.
    config.write_text('[tool.lint-ws]\nselct = ["WS001"]\n', encoding="utf-8")
    after = len(client.published)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(config))))
    )
    assert codes(await diagnostics(client, uri, after=after)) == ["WS001", "WS004"]
    [shown] = client.messages
    assert shown.type == types.MessageType.Error
    assert "unknown key 'selct'" in shown.message


async def test_the_server_asks_to_watch_the_configuration_files(client: LanguageClient, project: Path):
    watching = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)
        )
    )
    await start(client, project, capabilities=watching)
    [registration] = await until(client, lambda: client.registrations)
    assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = sorted(watcher["globPattern"] for watcher in registration.register_options["watchers"])
    assert globs == ["**/lint-ws.toml", "**/pyproject.toml"]


async def test_lint_ws_toml_per_file_ignores_and_exclude_apply(client: LanguageClient, project: Path):
    (project / "lint-ws.toml").write_text(
        'exclude = ["vendor/"]\nper-file-ignores = { "tests/**" = ["WS004"] }\n', encoding="utf-8"
    )
    await start(client, project)
    (project / "tests").mkdir()
    (project / "vendor").mkdir()
    in_tests = open_document(client, project / "tests" / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, in_tests, version=1)) == ["WS001"]
    vendored = open_document(client, project / "vendor" / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, vendored, version=1)) == []
    elsewhere = open_document(client, project / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, elsewhere, version=1)) == ["WS001", "WS004"]


async def test_initialization_options_select_and_ignore(client: LanguageClient, project: Path):
    (project / "pyproject.toml").write_text('[tool.lint-ws]\nignore = ["WS004"]\n', encoding="utf-8")
    # As on the command line: select replaces the configured selection and its ignore list.
    await start(client, project, options={"select": ["ws004", "WS003"], "ignore": ["WS003"]})
    feed = open_document(client, project / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, feed, version=1)) == ["WS004"]
    pump = open_document(client, project / "pump.rs", PUMP_RS)
    assert codes(await diagnostics(client, pump, version=1)) == []


async def test_unknown_initialization_option_is_reported(client: LanguageClient, project: Path):
    await start(client, project, options={"select": ["WS999"]})
    [shown] = await until(client, lambda: client.messages)
    assert "unknown rule id WS999" in shown.message
    uri = open_document(client, project / "feed.py", FEED_PY)
    assert codes(await diagnostics(client, uri, version=1)) == ["WS001", "WS004"]


SESSION_CRATE = Path(__file__).parent / "fixtures" / "rust" / "WS005" / "session_crate"


def ws005_lines(found: list[types.Diagnostic]) -> set[int]:
    return {diagnostic.range.start.line + 1 for diagnostic in found if diagnostic.code == "WS005"}


async def test_a_finding_follows_the_unsaved_edits_of_another_file(client: LanguageClient, project: Path):
    """session.rs's `Session::run` is restarted by main.rs's loop; remove the loop in main.rs's
    buffer (not saved) and `run` ends the session for good; put it back and the finding goes."""
    crate = project / "crate"
    shutil.copytree(SESSION_CRATE, crate)
    await start(client, project)
    main_text = (crate / "src" / "main.rs").read_text(encoding="utf-8")
    session = open_document(client, crate / "src" / "session.rs", (crate / "src" / "session.rs").read_text(encoding="utf-8"))
    before = ws005_lines(await diagnostics(client, session, version=1))
    opened = len(client.published)
    main = open_document(client, crate / "src" / "main.rs", main_text)
    await diagnostics(client, main, version=1, after=opened)
    assert ws005_lines(await diagnostics(client, session, version=1, after=opened)) == before  # re-linted, same

    once = main_text.replace(
        "    loop {\n        session.run().await;\n        tokio::time::sleep(Duration::from_secs(1)).await;\n"
        '        session = Session::open("wss://example.test/feed").await;\n    }\n',
        "    session.run().await;\n",
    )
    assert once != main_text
    after = len(client.published)
    change_document(client, main, once, version=2)
    await diagnostics(client, main, version=2, after=after)
    without_loop = ws005_lines(await diagnostics(client, session, version=1, after=after))
    lines = (crate / "src" / "session.rs").read_text(encoding="utf-8").splitlines()
    run_starts = next(number for number, line in enumerate(lines, 1) if "pub async fn run(" in line)
    listen_starts = next(number for number, line in enumerate(lines, 1) if "pub async fn listen(" in line)
    added = without_loop - before
    assert before <= without_loop and len(added) == 1 and run_starts < min(added) < listen_starts
    assert (crate / "src" / "main.rs").read_text(encoding="utf-8") == main_text  # nothing was saved

    after = len(client.published)
    change_document(client, main, main_text, version=3)
    await diagnostics(client, main, version=3, after=after)
    assert ws005_lines(await diagnostics(client, session, version=1, after=after)) == before


SESSIONS_PACKAGE = Path(__file__).parent / "fixtures" / "python" / "WS005" / "pkg_sessions"


async def test_a_python_finding_follows_the_unsaved_edits_of_another_module(client: LanguageClient, project: Path):
    """feed/session.py's `Session.run` is rerun by feed/app.py's loop; take the loop out of
    app.py's buffer and `run` is flagged; put it back and the finding goes."""
    package = project / "package"
    shutil.copytree(SESSIONS_PACKAGE, package)
    await start(client, project)
    app_path, session_path = package / "feed" / "app.py", package / "feed" / "session.py"
    app_text = app_path.read_text(encoding="utf-8")
    session = open_document(client, session_path, session_path.read_text(encoding="utf-8"))
    before = ws005_lines(await diagnostics(client, session, version=1))
    opened = len(client.published)
    app = open_document(client, app_path, app_text)
    await diagnostics(client, app, version=1, after=opened)
    assert ws005_lines(await diagnostics(client, session, version=1, after=opened)) == before

    looped = "    while True:\n        try:\n            await session.run()\n        except Exception:\n            await asyncio.sleep(1)\n"
    assert looped in app_text
    after = len(client.published)
    change_document(client, app, app_text.replace(looped, "    await session.run()\n"), version=2)
    await diagnostics(client, app, version=2, after=after)
    without_loop = ws005_lines(await diagnostics(client, session, version=1, after=after))
    run_starts = next(n for n, line in enumerate(session_path.read_text().splitlines(), 1) if "async def run(" in line)
    added = without_loop - before
    assert before <= without_loop and len(added) == 1 and run_starts < min(added) < run_starts + 6

    after = len(client.published)
    change_document(client, app, app_text, version=3)
    await diagnostics(client, app, version=3, after=after)
    assert ws005_lines(await diagnostics(client, session, version=1, after=after)) == before
