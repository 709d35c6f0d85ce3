"""The ``lint-ws`` command line: a click group, one command per job.

A command is added by defining it under ``@cli.command()``. Everything but click and the
reporters' format names is imported inside the commands, when a run needs it: the parsers
and rules only once a file passes its prefilter (README "Speed").
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from lint_ws import __version__, reporters

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lint_ws.findings import Finding

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class LintWs(click.Group):
    """The command group; Ctrl-C in any command is one line and exit 130 (click's own
    handling says "Aborted!" and exits 1)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("lint-ws: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=LintWs, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lint-ws")
def cli() -> None:
    """Find connection-lifecycle anti-patterns in Rust and Python code."""


def _rule_ids(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    from lint_ws.catalogue import rule_ids

    ids = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    unknown = sorted(ids - rule_ids())
    if unknown:
        raise click.BadParameter(f"unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(rule_ids()))})")
    return ids


def _complete_rule_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Rule ids for a comma-separated list: the ids not listed yet that continue the word
    after the last comma, each offered as the whole list so far plus that id."""
    from click.shell_completion import CompletionItem

    from lint_ws.catalogue import all_rules

    listed, _, last = incomplete.rpartition(",")
    prefix = f"{listed}," if listed else ""
    taken = {part.strip().upper() for part in listed.split(",")}
    return [
        CompletionItem(prefix + rule.id, help=rule.name)
        for rule in all_rules().values()
        if rule.id.startswith(last.upper()) and rule.id not in taken
    ]


def _complete_rule_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from click.shell_completion import CompletionItem

    from lint_ws.catalogue import all_rules

    return [CompletionItem(rule.id, help=rule.name) for rule in all_rules().values() if rule.id.startswith(incomplete.upper())]


@cli.command()
# Paths are not checked here (readable=False): an unreadable or missing named file is that
# file's problem, reported while the others are linted (SPEC section 6), not a usage error.
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(readable=False))
@click.option("--format", "format_name", type=click.Choice(sorted(reporters.FORMATS)), default="text", help="Report format (default: text).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE", help="Write the report to FILE.")
@click.option("--select", callback=_rule_ids, shell_complete=_complete_rule_ids, metavar="IDS", help="Comma-separated rule ids to run (default: all).")
@click.option("--ignore", callback=_rule_ids, shell_complete=_complete_rule_ids, metavar="IDS", help="Comma-separated rule ids not to run.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help="Processes to use (default: number of cores).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--show-source/--no-show-source", default=None, help="Show source frames (default: on a terminal).")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="Apply unsafe fixes too (implies --fix).")
@click.option("--diff", is_flag=True, help="Print the diff of the fixes instead of applying them; write nothing.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="pyproject.toml ([tool.lint-ws]) or lint-ws.toml to use (default: the nearest one).",
)
@click.option(
    "--report-unused-allows/--no-report-unused-allows",
    default=None,
    help="Report allow comments that suppress nothing, and exit 1 for them.",
)
@click.pass_context
def check(ctx: click.Context, **args) -> None:
    """Lint the files and directories PATH (default: the current directory)."""
    ctx.exit(_check(**args))


def _check(
    paths, format_name, output, select, ignore, exit_zero, jobs, no_cache, statistics, show_source,
    fix, unsafe_fixes, diff, config_file, report_unused_allows,
) -> int:
    from lint_ws import config, discovery, engine, snapshot
    from lint_ws.findings import AllowCommentProblem, FixProblem, Problem

    paths = paths or (".",)
    try:
        configuration = config.resolve(config_file, paths)
    except config.ConfigError as error:
        print(f"lint-ws: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    selected = configuration.selected_rules(select or None, ignore)
    if report_unused_allows is None:
        report_unused_allows = configuration.report_unused_allows
    if diff and format_name != "text":
        raise click.UsageError("--diff prints a diff; it takes no --format")
    cwd = os.getcwd()
    options = engine.RunOptions(
        selected=selected,
        per_file_ignores=configuration.per_file_ignores,
        report_unused_allows=report_unused_allows,
    )
    results_cache = None
    if not no_cache:
        from lint_ws import cache

        results_cache = cache.for_run(options)
    from lint_ws.progress import Progress

    # Discovery, the project index and the results cache share one look at the tree; the
    # fixes, which write files, come after it.
    with snapshot.taken():
        found = discovery.discover(paths, excluded=configuration.is_excluded)
        for missing in found.missing:
            print(f"lint-ws: {missing}: no such file or directory", file=sys.stderr)
        files = [(path, discovery.display_path(path, cwd)) for path in found.files]
        with Progress(len(files)) as progress:
            result = engine.run(files, options, jobs=jobs, cache=results_cache, progress=progress.advance)
    if results_cache is not None:
        results_cache.prune()
    fixing = fix or unsafe_fixes or diff
    if fixing:
        # Imported only to fix: a run that only offers fixes needs none of it.
        from lint_ws import fixes

        fixed = fixes.fix_run(result, files, options, unsafe=unsafe_fixes, write=not diff, cache=results_cache)
    # Derived from every file's result on each access (and a fix replaces a file's result):
    # taken once, after fixing.
    findings, problems = result.findings, result.problems

    try:
        stream = open(output, "w", encoding="utf-8", newline="\n") if output else sys.stdout
    except OSError as error:
        print(f"lint-ws: error: cannot write the report to {output}: {error.strerror}", file=sys.stderr)
        return EXIT_ERROR
    to_terminal = stream.isatty()
    report = reporters.Report(
        findings=findings,
        # A named path that does not exist is part of the exit code 2, so SARIF says so too.
        problems=problems + [Problem(name, "no such file or directory") for name in found.missing],
        files_checked=len(files),
        show_source=to_terminal if show_source is None else show_source,
        color=to_terminal and "NO_COLOR" not in os.environ,
        root=cwd,
        rules=tuple(sorted(selected)),
    )
    try:
        if diff:
            # Each file's patch is in that file's own encoding (git apply matches bytes).
            stream.flush()
            stream.buffer.write(b"".join(fixes.unified_diff(file_fix) for file_fix in fixed.fixes))
            stream.buffer.flush()
        else:
            reporters.render(format_name, report, stream)
    finally:
        if output:
            stream.close()

    for problem in problems:
        print(f"lint-ws: {problem.render()}", file=sys.stderr)
    active = [f for f in findings if not f.suppressed]
    if statistics:
        from collections import Counter

        from lint_ws.catalogue import all_rules

        for rule_id, count in sorted(Counter(f.rule_id for f in active).items()):
            print(f"{count:>5}  {rule_id}  {all_rules()[rule_id].name}", file=sys.stderr)
    if fixing:
        fix_note = _fix_note(fixed.remaining, fixed.fixed_count, unsafe_fixes, dry_run=diff)
    else:
        fix_note = _fix_note(findings, None, unsafe=False)
    allow_problems = [p for p in problems if isinstance(p, AllowCommentProblem)]
    analysis_problems = [p for p in problems if not isinstance(p, (AllowCommentProblem, FixProblem))]
    print(_summary(len(active), len(files), analysis_problems, fix_note), file=sys.stderr)

    if result.failed or found.missing:
        return EXIT_ERROR
    if diff:
        # Like ruff: a diff means there is something to fix.
        return EXIT_FINDINGS if fixed.fixes and not exit_zero else EXIT_CLEAN
    failing_allows = report_unused_allows and allow_problems
    return EXIT_FINDINGS if (active or failing_allows) and not exit_zero else EXIT_CLEAN


def _summary(findings: int, files: int, problems, fix_note: str = "") -> str:
    noun = "finding" if findings == 1 else "findings"
    summary = f"{findings} {noun} in {files} file{'s' if files != 1 else ''}"
    if problems:
        summary += f"; {len(problems)} file{'s' if len(problems) != 1 else ''} not fully analysed"
    if fix_note:
        summary += f"; {fix_note}"
    return summary + "."


def _fix_note(findings: Sequence[Finding], fixed: int | None, unsafe: bool, dry_run: bool = False) -> str:
    """The fix part of the summary line: ``N fixed, M remaining`` after fixing (``would``
    with ``--diff``), otherwise what ``--fix`` / ``--unsafe-fixes`` could do; empty when
    there is nothing to say. ``findings`` are those left after fixing, if any was made."""
    active = [f for f in findings if not f.suppressed]
    safe = sum(1 for f in active if f.fixable(unsafe=False))
    more = sum(1 for f in active if f.fixable(unsafe=True)) - safe
    parts = []
    if fixed is not None:
        parts.append(f"{fixed} would be fixed, {len(active)} would remain" if dry_run else f"{fixed} fixed, {len(active)} remaining")
        if not unsafe and more:
            parts.append(f"{more} more fixable with --unsafe-fixes")
    else:
        if safe:
            parts.append(f"{safe} fixable with --fix")
        if more:
            parts.append(f"{more} {'more ' if safe else ''}fixable with --unsafe-fixes")
    return "; ".join(parts)


@cli.command()
@click.argument("rule_id", required=False, metavar="[RULE_ID]", shell_complete=_complete_rule_id)
def rule(rule_id: str | None) -> None:
    """Print the doc of RULE_ID, or list every rule."""
    from lint_ws.catalogue import all_rules

    rules = all_rules()
    if rule_id is None:
        for doc in rules.values():
            click.echo(f"{doc.id}  {doc.name:<24} {doc.level:<8} {doc.summary}")
        return
    doc = rules.get(rule_id.upper())
    if doc is None:
        raise click.BadParameter(f"unknown rule id {rule_id} (known: {', '.join(rules)})", param_hint="RULE_ID")
    click.echo(f"# {doc.id} {doc.name}\n\n{doc.summary}\n\n{doc.doc}", nl=False)


@cli.command()
def server() -> None:
    """Run the language server (LSP over stdin/stdout) for editors."""
    from lint_ws.server import main as serve

    serve()


def main() -> None:
    """The console script: ``lint-ws`` whatever the script file is called (shell completion
    reads ``_LINT_WS_COMPLETE``)."""
    cli(prog_name="lint-ws")
