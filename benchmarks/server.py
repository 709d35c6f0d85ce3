"""Time ``lint-ws server`` from an edit to its diagnostics: the wait an editor user sees.

    python benchmarks/server.py [--edits N] [--lines N]

Starts the server (``python -m lint_ws.server``, what ``lint-ws server`` runs) on stdio
with pygls's own LSP client, opens a file of about 1,000 lines, waits for its first
diagnostics (cold: parsers and rules imported on the way), then makes N edits one after the
other, each adding or removing a comment line in the middle of the file as a ranged
``didChange``, and times each from sending the change to receiving the
``publishDiagnostics`` for that version (warm; the server's debounce included). Prints the
median and the slowest edit per file, and beside them the median of the engine alone
(``engine.lint_file`` on the same texts in this process, keeping the file's parse between
edits as the server does): the rest is what the server adds.
The target is 100 ms. On a shared machine, run it twice.

Two files per language:
- typical: the bundled examples of the language (every function connection code, about
  a quarter of the file) and plain functions up to the line count;
- dense: the examples repeated up to the line count, every function a candidate of
  several rules.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUFFIX = {"rust": ".rs", "python": ".py"}
COMMENT = {"rust": "//", "python": "#"}
PLAIN = {
    "rust": "pub fn helper_{n}(items: &[u64]) -> u64 {{\n    let mut total = 0;\n    for item in items {{\n"
    "        if *item > {n} {{ total += item; }}\n    }}\n    total\n}}\n\n",
    "python": "def helper_{n}(items):\n    total = 0\n    for item in items:\n        if item > {n}:\n"
    "            total += item\n    return total\n\n\n",
}


def source(language: str, kind: str, lines: int) -> str:
    examples = "".join(path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob(f"{language}/*{SUFFIX[language]}")))
    text = examples
    while text.count("\n") < lines:
        text += examples if kind == "dense" else PLAIN[language].format(n=text.count("\n"))
    return text


class Timer:
    """Diagnostics notifications, awaited by (uri, version)."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, int | None], asyncio.Future] = {}

    def expect(self, uri: str, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[(uri, version)] = future
        return future

    def published(self, params: types.PublishDiagnosticsParams) -> None:
        future = self.waiting.pop((params.uri, params.version), None)
        if future is not None and not future.done():
            future.set_result((time.perf_counter(), len(params.diagnostics)))


async def measure(directory: Path, language: str, kind: str, lines: int, edits: int) -> None:
    client = LanguageClient("lint-ws-benchmark", "1")
    timer = Timer()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        timer.published(params)

    await client.start_io(sys.executable, "-m", "lint_ws.server")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(directory)), name="bench")],
        )
    )
    client.initialized(types.InitializedParams())

    text = source(language, kind, lines)
    path = directory / f"{kind}{SUFFIX[language]}"
    path.write_text(text, encoding="utf-8")
    uri = from_fs_path(str(path))
    arrived = timer.expect(uri, 1)
    start = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
    )
    done, findings = await arrived
    cold = done - start

    middle = text.count("\n") // 2
    comment = f"{COMMENT[language]} an edit\n"
    times = []
    for version in range(2, edits + 2):
        adding = version % 2 == 0
        end = types.Position(middle, 0) if adding else types.Position(middle + 1, 0)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(middle, 0), end), text=comment if adding else ""
        )
        arrived = timer.expect(uri, version)
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change])
        )
        done, _ = await arrived
        times.append(done - start)

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    median, slowest = statistics.median(times), max(times)
    print(
        f"{language:<6} {kind:<7} {text.count(chr(10)):>5} lines {findings:>3} findings  "
        f"cold {cold * 1000:5.0f} ms  warm edit: median {median * 1000:4.0f} ms, slowest {slowest * 1000:4.0f} ms "
        f"({'meets' if median <= 0.1 else 'misses'} the 100 ms target); engine alone: median "
        f"{engine_alone(path, text, middle, comment, edits) * 1000:4.0f} ms",
        flush=True,
    )


def engine_alone(path: Path, text: str, middle: int, comment: str, edits: int) -> float:
    """The median time of the engine's lint of the texts the edits made, in this process."""
    from lint_ws.catalogue import rule_ids

    from lint_ws import engine
    from lint_ws.python import reparse
    from lint_ws.rust import summary
    from lint_ws.server.language_server import KEPT_FUNCTION_RECORDS, KEPT_PARSES

    reparse.remember(KEPT_PARSES)  # what the server keeps between edits
    summary.keep_records(KEPT_FUNCTION_RECORDS)
    options = engine.RunOptions(selected=rule_ids())
    lines = text.splitlines(keepends=True)
    edited = "".join(lines[:middle] + [comment] + lines[middle:])
    engine.lint_file(path, path.name, options, raw=text.encode())  # imports, as the server's first lint
    times = []
    for version in range(edits):
        raw = (edited if version % 2 == 0 else text).encode()
        start = time.perf_counter()
        engine.lint_file(path, path.name, options, raw=raw)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20, help="warm edits per file (default: 20)")
    parser.add_argument("--lines", type=int, default=1000, help="lines per file (default: 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lint-ws-server-bench-") as scratch:
        directory = Path(scratch)
        (directory / ".git").mkdir()  # no configuration from above the scratch directory
        for language in ("rust", "python"):
            for kind in ("typical", "dense"):
                asyncio.run(measure(directory, language, kind, args.lines, args.edits))


if __name__ == "__main__":
    main()
