"""Time lint-ws against the parse floor and semgrep; print the figures and the ratios.

    python benchmarks/run.py [--rust-tree PATH] [--python-tree PATH] [--jobs N]
                             [--semgrep PATH | --no-semgrep] [--no-serial]

With no tree given, a synthetic tree of each language is generated. Each tree's .rs / .py /
.pyi files are copied into a scratch directory first, so that every tool sees the same
files (no .gitignore above the tree hiding it, no semgrep default ignores) and the lint-ws
cache lives there too. Timings are wall-clock: lint-ws's cold runs on a tree are the best
of three (each into an empty cache), its warm runs and start-up figures the best of
fifteen (the start-up commands taken in turns), the parse-only, --jobs 1 and semgrep runs
one each. On a shared machine, run it twice.

The start-up floor of one file is ``python -c "import click"`` plus importing the parser and
parsing the file: what any click command that parses it costs (lint-ws's target: 2x).

lint-ws, the parse floors and ``python -c pass`` all run on the Python of a bare virtual
environment made in the scratch directory, which sees a snapshot of lint_ws and the
installed dependencies through a path file. A user's installed lint-ws starts that way; the
development environment's own start-up hooks (an editable install's import finder loads
pathlib and importlib machinery at every start) would otherwise count in every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUFFIXES = {"rust": (".rs",), "python": (".py", ".pyi")}
SKIPPED = {".git", "target", "node_modules", "__pycache__", "site-packages"}
# Copied with the sources: they make the project a lint run assembles its facts for (a
# crate or workspace, a package), as a user's checkout has them.
MANIFESTS = {"rust": ("Cargo.toml",), "python": ("pyproject.toml", "setup.cfg")}


def lint_ws_command(python: str) -> list[str]:
    """What the installed ``lint-ws`` script runs (``python -m`` would also import runpy,
    which the installed command does not). ``-c`` puts the working directory first on
    sys.path, ahead of the snapshot: it is dropped."""
    return [python, "-c", "import sys; del sys.path[0]; from lint_ws.cli import main; sys.exit(main())"]


def snapshot(scratch: Path) -> Path:
    """A copy of the lint_ws package being measured, to run the tree benchmarks from.

    The cache key includes the modification times of lint-ws's modules (so that editing a
    rule invalidates what it cached); in a development tree that others edit during the
    benchmark, the warm run would otherwise measure a cold one.
    """
    import lint_ws
    import lint_ws.catalogue

    root = scratch / "snapshot"
    package = Path(lint_ws.__file__).parent
    shutil.copytree(package, root / "lint_ws", ignore=shutil.ignore_patterns("__pycache__"))
    catalogue = Path(lint_ws.catalogue.__file__).parent
    if not (root / "lint_ws" / "catalogue").exists():  # an editable install maps it from rules/
        shutil.copytree(catalogue, root / "lint_ws" / "catalogue", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def bare_python(scratch: Path, snapshot_root: Path) -> str:
    """A virtual environment without packages whose Python finds the snapshot, then what
    this Python has installed (a path file adds directories; it runs none of their hooks)."""
    import site

    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True
    ).stdout.strip()
    installed = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    Path(purelib, "lint-ws-benchmark.pth").write_text("\n".join([str(snapshot_root), *installed]) + "\n")
    return python


def semgrep_command(given: str | None) -> str | None:
    return given or shutil.which("semgrep")


def child_env(cache_dir: Path) -> dict[str, str]:
    env = {**os.environ, "LINT_WS_CACHE_DIR": str(cache_dir)}
    # Byte-code files are what an installed lint-ws runs from; without them every start
    # recompiles lint-ws, which is not what users see.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LINT_WS_DEBUG", None)
    return env


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB, largest process) of ``command``, run in a child."""
    probe = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run([sys.executable, "-c", probe, *command], env=env, capture_output=True, text=True, check=True)
    seconds, rss_kib = output.stdout.split()
    return float(seconds), int(rss_kib) // 1024


def best_of(count: int, command: list[str], env: dict[str, str] | None = None) -> float:
    return min(timed(command, env)[0] for _ in range(count))


def best_of_each(count: int, commands: list[list[str]], env: dict[str, str] | None = None) -> list[float]:
    """The best of ``count`` runs of each command, taken in turns, so that a shared
    machine's changing load weighs on all of them alike."""
    best = [float("inf")] * len(commands)
    for _ in range(count):
        for index, command in enumerate(commands):
            best[index] = min(best[index], timed(command, env)[0])
    return best


def copy_tree(source: Path, destination: Path, language: str) -> tuple[int, int]:
    """Copy the ``language`` files of ``source`` and its project manifests; return (files,
    lines) of the sources."""
    files = lines = 0
    for root, directories, names in os.walk(source):
        directories[:] = sorted(d for d in directories if d not in SKIPPED)
        for name in names:
            manifest = name in MANIFESTS[language]
            if not (manifest or name.endswith(SUFFIXES[language])):
                continue
            path = Path(root, name)
            target = destination / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            target.write_bytes(data)
            if not manifest:
                files += 1
                lines += data.count(b"\n")
    return files, lines


RUST_TEMPLATE = """use tokio::sync::mpsc;

pub struct Session{n} {{ tx: mpsc::Sender<String>, open: bool }}

impl Session{n} {{
    pub fn push(&mut self, line: String) -> Result<(), String> {{
        match self.tx.try_send(line) {{
            Ok(()) => Ok(()),
            Err(error) => Err(format!("queue: {{error}}")),
        }}
    }}

    pub fn total(values: &[u64]) -> u64 {{
        let mut sum = 0;
        for value in values {{
            if *value > {n} {{ sum += value; }} else {{ sum += 1; }}
        }}
        sum
    }}
}}
"""

PYTHON_TEMPLATE = '''import asyncio


class Session{n}:
    def __init__(self, queue):
        self.queue = queue
        self.closed = False

    async def push(self, message):
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            await asyncio.sleep(0)

    def total(self, values):
        return sum(value for value in values if value > {n})


def helper_{n}(items):
    return [item * 2 for item in items if item]
'''


CRATE_TEMPLATE = """use futures_util::{{SinkExt, StreamExt}};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::{{connect_async, tungstenite::Message, MaybeTlsStream, WebSocketStream}};

pub struct Client{n} {{
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    events: mpsc::Sender<String>,
}}

impl Client{n} {{
    pub async fn open(url: &str, events: mpsc::Sender<String>) -> Self {{
        let (socket, _) = connect_async(url).await.expect("connect");
        Client{n} {{ socket, events }}
    }}

    pub async fn run(&mut self) {{
        loop {{
            match self.socket.next().await {{
                Some(Ok(message)) => {{
                    let _ = self.events.send(message.to_string()).await;
                }}
                _ => break,
            }}
        }}
    }}

    pub async fn close(&mut self) {{
        let _ = self.socket.send(Message::Close(None)).await;
    }}
}}

pub async fn supervise{n}(url: &str) {{
    let (tx, mut rx) = mpsc::channel(16);
    let consumer = tokio::spawn(async move {{ while let Some(line) = rx.recv().await {{ println!("{{line}}"); }} }});
    loop {{
        let mut client = Client{n}::open(url, tx.clone()).await;
        client.run().await;
        client.close().await;
        crate::module{m}::helper{m}();
    }}
    #[allow(unreachable_code)]
    consumer.abort();
}}

pub fn helper{n}() -> u64 {{
    (0..{n}u64).sum()
}}
"""
CRATE_FILES = 500


def synthesize_crate(destination: Path, files: int = CRATE_FILES) -> None:
    """A crate of ``files`` modules full of connection code, each calling into another."""
    (destination / "src").mkdir(parents=True)
    (destination / "Cargo.toml").write_text('[package]\nname = "bench_crate"\nversion = "0.1.0"\nedition = "2021"\n')
    modules = "".join(f"pub mod module{index};\n" for index in range(files))
    (destination / "src" / "lib.rs").write_text(modules)
    for index in range(files):
        (destination / "src" / f"module{index}.rs").write_text(CRATE_TEMPLATE.format(n=index, m=(index + 1) % files))


def synthesize(destination: Path, language: str, files: int = 1000) -> None:
    template, suffix = (RUST_TEMPLATE, ".rs") if language == "rust" else (PYTHON_TEMPLATE, ".py")
    for index in range(files):
        path = destination / f"pkg{index // 100}" / f"module{index}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(n=index) * 5)


# --- parse only: run in a child process, all cores --------------------------------------


def _parse_rust(path: str) -> None:
    import tree_sitter
    import tree_sitter_rust

    tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language())).parse(Path(path).read_bytes())


def _parse_libcst(path: str) -> None:
    import libcst

    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:  # the few files libcst rejects still cost their attempt
        pass


def _parse_tree_sitter_python(path: str) -> None:
    import tree_sitter
    import tree_sitter_python

    tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language())).parse(Path(path).read_bytes())


PARSERS = {"rust": _parse_rust, "libcst": _parse_libcst, "tree-sitter-python": _parse_tree_sitter_python}


def parse_only(parser: str, directory: str, jobs: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    language = "rust" if parser == "rust" else "python"
    paths = sorted(str(p) for p in Path(directory).rglob("*") if p.suffix in SUFFIXES[language])
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(PARSERS[parser], paths, chunksize=16))


# --- the benchmark -----------------------------------------------------------------------


def row(label: str, seconds: float, rss: int | None = None) -> None:
    extra = f"   peak RSS {rss:>4} MiB" if rss is not None else ""
    print(f"  {label:<44} {seconds:8.3f} s{extra}", flush=True)


def ratio(label: str, value: float, target: str) -> None:
    print(f"  {label:<44} {value:8.2f}x   (target {target})", flush=True)


TREE_RUNS = 3

# Start-up times are tens of milliseconds on a noisy machine: the best of many runs is the
# figure that a quiet machine would give every time.
STARTUP_RUNS = 15


def bench_tree(language: str, tree: Path, scratch: Path, args, semgrep: str | None, python: str) -> None:
    lint = lint_ws_command(python)
    env = child_env(scratch / f"cache-{language}-0")
    if not tree:
        tree = scratch / f"synthetic-{language}"
        synthesize(tree, language)
    files, lines = copy_tree(tree, scratch / language, language)
    directory = scratch / language
    (directory / ".semgrepignore").write_text("")  # no default ignores: the same files as lint-ws
    print(f"\n{language}: {tree} ({files} files, {lines} lines), --jobs {args.jobs}", flush=True)

    lint_tree = [*lint, "check", "--exit-zero", "--format", "json", "-o", os.devnull]
    check = [*lint_tree, "--jobs", str(args.jobs), str(directory)]
    # Best of a few cold runs (each into an empty cache); a warm run (the last cache) lasts
    # little more than a start-up, which one noisy moment can double: best of as many.
    colds = []
    for attempt in range(TREE_RUNS):
        env["LINT_WS_CACHE_DIR"] = str(scratch / f"cache-{language}-{attempt}")
        colds.append(timed(check, env))
    cold, cold_rss = min(colds)
    row(f"lint-ws cold (empty cache, best of {TREE_RUNS})", cold, cold_rss)
    warm, warm_rss = min(timed(check, env) for _ in range(STARTUP_RUNS))
    row(f"lint-ws warm (unchanged tree, best of {STARTUP_RUNS})", warm, warm_rss)
    serial = None
    if not args.no_serial:
        serial, serial_rss = timed([*lint_tree, "--no-cache", "--jobs", "1", str(directory)], env)
        row("lint-ws --jobs 1 --no-cache", serial, serial_rss)

    parsers = ["rust"] if language == "rust" else ["libcst", "tree-sitter-python"]
    floors = {}
    for parser in parsers:
        if parser == "tree-sitter-python" and subprocess.run(
            [python, "-c", "import tree_sitter_python"], capture_output=True
        ).returncode:
            print("  (tree-sitter-python not installed: its parse is not measured)")
            continue
        floors[parser], _ = timed(
            [python, str(Path(__file__).resolve()), "--parse-only", parser, str(directory), "--jobs", str(args.jobs)]
        )
        row(f"parse only: {parser}", floors[parser])

    sem = None
    if semgrep:
        sem_command = [semgrep, "scan", "--config", str(HERE / "semgrep-rules.yml"), "--metrics", "off",
                       "--disable-version-check", "--no-git-ignore", "-q", "--jobs", str(args.jobs)]
        sem, sem_rss = timed([*sem_command, str(directory)])
        row("semgrep, five rules", sem, sem_rss)

    print("  ratios:")
    parse_floor = floors.get("rust" if language == "rust" else "libcst")
    if parse_floor and language == "rust":
        ratio("cold / tree-sitter parse-only", cold / parse_floor, "<= 1.2")
    if parse_floor and language == "python":
        ratio("cold / libcst parse-only", cold / parse_floor, "as low as the prefilter allows")
    if sem:
        ratio("cold / semgrep", cold / sem, "<= 0.2" if language == "rust" else "<= 0.3")
    ratio("warm / cold", warm / cold, "<= 0.1")
    if serial:
        target = ">= 1.7 on 2 cores" if language == "python" else "none; the stdlib's is >= 1.7"
        ratio(f"speed-up --jobs {args.jobs} over --jobs 1", serial / cold, target)
    print(f"  peak RSS (largest process): {max(cold_rss, warm_rss)} MiB (target < 400)")


# Parsing one file, imports included: the floor of linting it.
PARSE_ONE_FILE = {
    ".rs": "import tree_sitter, tree_sitter_rust, sys;"
    "tree_sitter.Parser(tree_sitter.Language(tree_sitter_rust.language())).parse(open(sys.argv[1], 'rb').read())",
    ".py": "import libcst, sys; libcst.parse_module(open(sys.argv[1], 'rb').read())",
}
LARGE_FILE_COPIES = 30


def bench_large_file(scratch: Path, python: str) -> None:
    """One large file full of connection code: the bundled examples of a language, copied
    LARGE_FILE_COPIES times over. Findings, fixes and cross-function questions grow with
    the file; lint-ws must stay linear in it, a bounded factor of the parse."""
    print(f"\nlarge file: the examples of each language {LARGE_FILE_COPIES} times over in one file", flush=True)
    lint = lint_ws_command(python)
    env = child_env(scratch / "cache-large")
    directory = scratch / "large"
    directory.mkdir()
    for suffix, floor_script in PARSE_ONE_FILE.items():
        examples = sorted((HERE.parent / "examples").rglob(f"*{suffix}"))
        path = directory / f"large{suffix}"
        path.write_text("".join(example.read_text(encoding="utf-8") for example in examples) * LARGE_FILE_COPIES)
        lines = path.read_text(encoding="utf-8").count("\n")
        parse, _ = timed([python, "-c", floor_script, str(path)], env)
        lint_time, _ = timed([*lint, "check", "--no-cache", "--exit-zero", "--format", "json", "-o", os.devnull, str(path)], env)
        row(f"parse large{suffix} ({lines} lines)", parse)
        row(f"lint-ws check large{suffix} --no-cache", lint_time)
        ratio(f"large{suffix}: lint-ws / parse", lint_time / parse, "none; linear in the file")


def bench_crate(scratch: Path, python: str) -> None:
    """One file named in a crate (a pre-commit run): the crate's facts come from the project
    index, so the run sees the whole crate; with a warm cache every other file costs a stat."""
    print(f"\ncrate: one file named in a {CRATE_FILES}-file crate of connection code", flush=True)
    lint = lint_ws_command(python)
    crate = scratch / "crate"
    synthesize_crate(crate)
    one = crate / "src" / "module0.rs"
    base = best_of(STARTUP_RUNS, [python, "-c", "pass"])
    parse = best_of(STARTUP_RUNS, [python, "-c", PARSE_ONE_FILE[".rs"], str(one)]) - base
    cold_crate = min(
        timed([*lint, "check", "--exit-zero", "-o", os.devnull, str(crate)], child_env(scratch / f"cache-crate-{run}"))[0]
        for run in range(TREE_RUNS)
    )
    cold_one, rss = min(
        timed([*lint, "check", "--exit-zero", str(one)], child_env(scratch / f"cache-one-{run}")) for run in range(TREE_RUNS)
    )
    warm_env = child_env(scratch / "cache-one-warm")
    timed([*lint, "check", "--exit-zero", str(one)], warm_env)  # fills the summaries and results
    warm_one = best_of(STARTUP_RUNS, [*lint, "check", "--exit-zero", str(one)], warm_env)
    row("python -c pass + parse module0.rs", base + parse)
    row("lint-ws check <crate> (cold cache)", cold_crate)
    row("lint-ws check module0.rs (cold cache)", cold_one, rss)
    row("lint-ws check module0.rs (warm cache)", warm_one)
    ratio("module0.rs warm / (python -c pass + parse)", warm_one / (base + parse), "<= 2")
    ratio("module0.rs cold / crate cold", cold_one / cold_crate, "<= 1")


def bench_startup(scratch: Path, semgrep: str | None, python: str) -> None:
    """One small file: lint-ws against the floor of any click command that parses it,
    ``python -c "import click"`` plus importing the parser and parsing the file."""
    print(f"\nstart-up: one small file (best of {STARTUP_RUNS})", flush=True)
    lint = lint_ws_command(python)
    env = child_env(scratch / "cache-startup")
    one = scratch / "one"
    one.mkdir()
    (one / "one_file.rs").write_text(RUST_TEMPLATE.format(n=1))
    (one / "one_file.py").write_text(PYTHON_TEMPLATE.format(n=1))
    base, with_click = best_of_each(STARTUP_RUNS, [[python, "-c", "pass"], [python, "-c", "import click"]])
    row("python -c pass", base)
    row('python -c "import click"', with_click)
    for name in ("one_file.rs", "one_file.py"):
        floor_script = PARSE_ONE_FILE[Path(name).suffix]
        timed([*lint, "check", str(one / name)], env)  # compiles byte code, fills the cache
        bare, floor, cold, warm = best_of_each(
            STARTUP_RUNS,
            [
                [python, "-c", floor_script, str(one / name)],
                [python, "-c", f"import click; {floor_script}", str(one / name)],
                [*lint, "check", "--no-cache", str(one / name)],
                [*lint, "check", str(one / name)],
            ],
            env,
        )
        parse = bare - base
        row(f"parse {name} (parser import + parse)", parse)
        row(f"import click + parse {name}", floor)
        row(f"lint-ws check {name} --no-cache", cold)
        row(f"lint-ws check {name} (cached)", warm)
        ratio(f"{name}: lint-ws / (import click + parse)", cold / floor, "<= 2")
    if semgrep:
        empty = scratch / "empty"
        empty.mkdir()
        sem = best_of(1, [semgrep, "scan", "--config", str(HERE / "semgrep-rules.yml"), "--metrics", "off",
                          "--disable-version-check", "-q", str(empty)])
        row("semgrep on an empty directory", sem)


PACKAGE_MODULES = 500
PACKAGE_BASE = '''"""The transport every session of the package derives from."""

import websockets


class Transport:
    def __init__(self, uri):
        self.uri = uri
        self._ws = None

    async def open(self):
        self._ws = await websockets.connect(self.uri)

    @property
    def connected(self):
        return self._ws is not None and not self._ws.closed
'''
PACKAGE_MODULE = '''"""Session {n}: a subclass of the transport in another module, calling its helpers."""

import asyncio

from .transport import Transport
from .module{previous} import helper_{previous}


class Session{n}(Transport):
    async def pump(self):
        await self.open()
        async for message in self._ws:
            helper_{previous}(message)

    async def send(self, message):
        if self.connected:
            await self._ws.send(message)

    async def run(self):
        while True:
            try:
                await self.pump()
            except OSError:
                await asyncio.sleep(1)


def helper_{n}(message):
    return [part for part in str(message).split() if part]
'''


def bench_package(scratch: Path, python: str) -> None:
    """One file of a package of PACKAGE_MODULES modules whose facts cross modules (a base
    class, helpers, callers): a pre-commit run naming one changed file."""
    print(f"\npackage: one file of a {PACKAGE_MODULES}-module package (best of {STARTUP_RUNS})", flush=True)
    lint = lint_ws_command(python)
    env = child_env(scratch / "cache-package")
    root = scratch / "package"
    package = root / "sessions"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "sessions"\nversion = "0"\n')
    (package / "__init__.py").write_text("")
    (package / "transport.py").write_text(PACKAGE_BASE)
    for index in range(PACKAGE_MODULES - 2):
        (package / f"module{index}.py").write_text(PACKAGE_MODULE.format(n=index, previous=(index - 1) % (PACKAGE_MODULES - 2)))
    one = package / f"module{PACKAGE_MODULES // 2}.py"
    base = best_of(STARTUP_RUNS, [python, "-c", "pass"])
    parse = best_of(STARTUP_RUNS, [python, "-c", PARSE_ONE_FILE[".py"], str(one)], env) - base
    whole, whole_rss = timed([*lint, "check", "--exit-zero", "--format", "json", "-o", os.devnull, str(root)], env)
    cold, cold_rss = timed([*lint, "check", "--no-cache", "--exit-zero", str(one)], env)
    warm = best_of(STARTUP_RUNS, [*lint, "check", "--exit-zero", str(one)], env)
    row("python -c pass + parse of the file", base + parse)
    row("lint-ws check PACKAGE (cold, fills the cache)", whole, whole_rss)
    row("lint-ws check ONE_FILE --no-cache", cold, cold_rss)
    row("lint-ws check ONE_FILE (cached)", warm)
    ratio("cached one file / (python -c pass + parse)", warm / (base + parse), "<= 2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rust-tree", type=Path, help="a Rust tree (default: a generated one)")
    parser.add_argument("--python-tree", type=Path, help="a Python tree (default: a generated one)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--semgrep", help="the semgrep executable (default: semgrep on PATH)")
    parser.add_argument("--no-semgrep", action="store_true")
    parser.add_argument("--no-serial", action="store_true", help="skip the --jobs 1 run (slow on large trees)")
    parser.add_argument("--only", choices=["rust", "python", "startup", "large", "crate", "package"], action="append")
    parser.add_argument("--parse-only", nargs=2, metavar=("PARSER", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_only:
        parse_only(*args.parse_only, args.jobs)
        return

    semgrep = None if args.no_semgrep else semgrep_command(args.semgrep)
    print(f"lint-ws benchmark: {os.cpu_count()} cores, {_cpu_model()}, Python {sys.version.split()[0]}")
    if not semgrep:
        print("semgrep not found (pass --semgrep PATH): semgrep is not measured")
    only = set(args.only or ["rust", "python", "startup", "large", "crate", "package"])
    with tempfile.TemporaryDirectory(prefix="lint-ws-bench-") as scratch_name:
        scratch = Path(scratch_name)
        python = bare_python(scratch, snapshot(scratch))
        if "startup" in only:
            bench_startup(scratch, semgrep, python)
        if "large" in only:
            bench_large_file(scratch, python)
        if "crate" in only:
            bench_crate(scratch, python)
        if "package" in only:
            bench_package(scratch, python)
        if "rust" in only:
            bench_tree("rust", args.rust_tree, scratch, args, semgrep, python)
        if "python" in only:
            bench_tree("python", args.python_tree, scratch, args, semgrep, python)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
