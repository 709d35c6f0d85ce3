"""Cache safety with runs at once: several lint-ws processes sharing one cache directory
each report what a run without the cache reports, and so does the run that reads what
they wrote; processes writing and reading the same entries never see part of one."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
from pathlib import Path

from cli_runner import REPO, cli_environment, lint_ws_executable, run_cli
from fixture_expectations import FIXTURES
from lint_ws import engine
from lint_ws.cache import ResultCache
from lint_ws.catalogue import all_rules
from lint_ws.findings import Finding, Span

RUNS_AT_ONCE = 3
COPIES = 2  # of the rule fixtures and examples/: a tree of about two hundred files
CHECK = ("check", "--no-show-source", "--format", "json", ".")


def build_tree(root: Path) -> None:
    for copy in range(COPIES):
        for language in ("rust", "python"):
            shutil.copytree(FIXTURES / language, root / f"copy{copy}" / "fixtures" / language)
        shutil.copytree(REPO / "examples", root / f"copy{copy}" / "examples")


def test_runs_at_once_sharing_a_cache_report_what_an_uncached_run_does(tmp_path):
    tree = tmp_path / "tree"
    build_tree(tree)
    uncached = run_cli(*CHECK, "--no-cache", cwd=tree)
    assert uncached.returncode == 1 and '"findings": [' in uncached.stdout, uncached.stderr

    cache_env = cli_environment({"LINT_WS_CACHE_DIR": str(tmp_path / "cache")})
    # Started together, they find the cache empty and write the same entries and index.
    processes = [
        subprocess.Popen(
            [lint_ws_executable(), *CHECK], cwd=tree, env=cache_env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(RUNS_AT_ONCE)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == uncached.returncode, stderr
        assert stdout == uncached.stdout
        assert stderr == uncached.stderr

    for _ in range(2):  # reading what they wrote, then what this run added
        warm = run_cli(*CHECK, cwd=tree, env={"LINT_WS_CACHE_DIR": str(tmp_path / "cache")})
        assert (warm.returncode, warm.stdout, warm.stderr) == (uncached.returncode, uncached.stdout, uncached.stderr)


# --- ResultCache under concurrent put and get ------------------------------------------

WORKERS = 4
ROUNDS = 25
OPTIONS = engine.RunOptions(frozenset(all_rules()))


def value_of(worker: int, round_: int, shared: bool) -> list[Finding]:
    """A distinct, recognisable value per writer and round, of differing sizes (pickles of
    tens to hundreds of KB, written in many blocks)."""
    count = 200 + 97 * ((worker * ROUNDS + round_) % 13)
    span = Span(1, 1, 1, 10, 0, 9)
    return [
        Finding("WS001", f"{'shared' if shared else 'own'}.py", span._replace(start_line=index + 1), f"w{worker} r{round_} #{index}")
        for index in range(count)
    ]


def whose(value: list[Finding], shared: bool) -> tuple[int, int]:
    """The (worker, round) that put ``value``; fails unless it is exactly that value."""
    worker, round_ = (int(part[1:]) for part in value[0].message.split()[:2])
    assert value == value_of(worker, round_, shared), "an entry is not a value any writer put"
    return worker, round_


def hammer(directory: str, worker: int, start, failures) -> None:
    cache = ResultCache(Path(directory), OPTIONS)
    shared_key = cache.key("shared.py", b"the same content in every process", ["WS001"])
    own_key = cache.key("own.py", f"content of worker {worker}".encode(), ["WS001"])
    start.wait()
    try:
        for round_ in range(ROUNDS):
            cache.put(shared_key, value_of(worker, round_, shared=True))
            cache.put(own_key, value_of(worker, round_, shared=False))
            # The entry exists since this worker's put: a miss means a reader met part of a write.
            seen = cache.get(shared_key)
            assert seen is not None, "a get missed an entry that every worker has written"
            whose(seen, shared=True)
            assert whose(cache.get(own_key), shared=False) == (worker, round_)
    except Exception as error:  # reported to the test, which runs in another process
        failures.put(f"worker {worker}: {type(error).__name__}: {error}")
        raise


def test_concurrent_puts_and_gets_never_return_part_of_an_entry(tmp_path):
    context = multiprocessing.get_context()
    start, failures = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=hammer, args=(str(tmp_path), worker, start, failures)) for worker in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    reported = []
    while not failures.empty():
        reported.append(failures.get())
    assert reported == [] and [p.exitcode for p in processes] == [0] * WORKERS, reported

    cache = ResultCache(tmp_path, OPTIONS)
    final = cache.get(cache.key("shared.py", b"the same content in every process", ["WS001"]))
    assert final is not None and whose(final, shared=True)[1] == ROUNDS - 1  # some worker's last put
    assert not [path for path in tmp_path.rglob("*.tmp")], "temporary files left behind"
