"""The ``lint-ws`` command line.

Built on the standard library's argparse: the command runs on every commit from a
pre-commit hook, where start-up is most of its time, and importing click cost as much as
Python's own start-up plus parsing the file (benchmarks/, README "Speed").
"""

from __future__ import annotations

import argparse
import os
import sys

from lint_ws import __version__, reporters

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def _rule_ids(value: str) -> frozenset[str]:
    from lint_ws.catalogue import rule_ids

    ids = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    unknown = sorted(ids - rule_ids())
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(rule_ids()))})")
    return ids


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return jobs


def _file(value: str) -> str:
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value!r} is a directory")
    return value


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lint-ws check", description="Lint PATHS (default: the current directory).")
    add = parser.add_argument
    # Paths are not checked here: an unreadable or missing named file is that file's
    # problem, reported while the others are linted (SPEC section 6), not a usage error.
    add("paths", nargs="*", metavar="PATH", help="Files and directories to lint (default: .).")
    add("--format", dest="format_name", choices=sorted(reporters.FORMATS), default="text", help="Report format (default: text).")
    add("-o", "--output", type=_file, metavar="FILE", help="Write the report to FILE.")
    add("--select", type=_rule_ids, metavar="IDS", help="Comma-separated rule ids to run (default: all).")
    add("--ignore", type=_rule_ids, metavar="IDS", help="Comma-separated rule ids not to run.")
    add("--exit-zero", action="store_true", help="Exit 0 even when there are findings.")
    add("--jobs", type=_jobs, metavar="N", help="Processes to use (default: number of cores).")
    add("--no-cache", action="store_true", help="Neither read nor write the results cache.")
    add("--statistics", action="store_true", help="Print the number of findings per rule.")
    add("--show-source", action=argparse.BooleanOptionalAction, help="Show source frames (default: on a terminal).")
    add("--fix", action="store_true", help="Apply safe fixes, then report what remains.")
    add("--unsafe-fixes", action="store_true", help="Apply unsafe fixes too (implies --fix).")
    add("--diff", action="store_true", help="Print the diff of the fixes instead of applying them; write nothing.")
    add(
        "--config",
        dest="config_file",
        type=_file,
        metavar="FILE",
        help="pyproject.toml ([tool.lint-ws]) or lint-ws.toml to use (default: the nearest one).",
    )
    add(
        "--report-unused-allows",
        action=argparse.BooleanOptionalAction,
        help="Report allow comments that suppress nothing, and exit 1 for them.",
    )
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from lint_ws import config, discovery, engine
    from lint_ws.findings import AllowCommentProblem, FixProblem, Problem

    paths = args.paths or (".",)
    try:
        configuration = config.resolve(args.config_file, paths)
    except config.ConfigError as error:
        print(f"lint-ws: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    selected = configuration.selected_rules(args.select or None, args.ignore)
    report_unused_allows = args.report_unused_allows
    if report_unused_allows is None:
        report_unused_allows = configuration.report_unused_allows
    diff = args.diff
    if diff and args.format_name != "text":
        parser.error("--diff prints a diff; it takes no --format")
    cwd = os.getcwd()
    found = discovery.discover(paths, excluded=configuration.is_excluded)
    for missing in found.missing:
        print(f"lint-ws: {missing}: no such file or directory", file=sys.stderr)
    files = [(path, discovery.display_path(path, cwd)) for path in found.files]
    options = engine.RunOptions(
        selected=selected,
        per_file_ignores=configuration.per_file_ignores,
        report_unused_allows=report_unused_allows,
    )
    results_cache = None
    if not args.no_cache:
        from lint_ws import cache

        results_cache = cache.for_run(options)
    from lint_ws.progress import Progress

    with Progress(len(files)) as progress:
        result = engine.run(files, options, jobs=args.jobs, cache=results_cache, progress=progress.advance)
    if results_cache is not None:
        results_cache.prune()
    unsafe_fixes = args.unsafe_fixes
    fixing = args.fix or unsafe_fixes or diff
    offers_fixes = any(finding.fix for finding in result.findings)
    if fixing or offers_fixes:
        # Imported only when there is something to fix or to offer fixing.
        from lint_ws import fixes
    if fixing:
        fixed = fixes.fix_run(result, files, options, unsafe=unsafe_fixes, write=not diff, cache=results_cache)
    # Derived from every file's result on each access (and a fix replaces a file's result):
    # taken once, after fixing.
    findings, problems = result.findings, result.problems

    try:
        stream = open(args.output, "w", encoding="utf-8", newline="\n") if args.output else sys.stdout
    except OSError as error:
        print(f"lint-ws: error: cannot write the report to {args.output}: {error.strerror}", file=sys.stderr)
        return EXIT_ERROR
    to_terminal = stream.isatty()
    show_source = args.show_source
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
            reporters.render(args.format_name, report, stream)
    finally:
        if args.output:
            stream.close()

    for problem in problems:
        print(f"lint-ws: {problem.render()}", file=sys.stderr)
    active = [f for f in findings if not f.suppressed]
    if args.statistics:
        from collections import Counter

        from lint_ws.catalogue import all_rules

        for rule_id, count in sorted(Counter(f.rule_id for f in active).items()):
            print(f"{count:>5}  {rule_id}  {all_rules()[rule_id].name}", file=sys.stderr)
    if fixing:
        fix_note = fixes.summary(fixed.remaining, fixed.fixed_count, unsafe_fixes, dry_run=diff)
    elif offers_fixes:
        fix_note = fixes.summary(findings, None, unsafe=False)
    else:
        fix_note = ""
    allow_problems = [p for p in problems if isinstance(p, AllowCommentProblem)]
    analysis_problems = [p for p in problems if not isinstance(p, (AllowCommentProblem, FixProblem))]
    print(_summary(len(active), len(files), analysis_problems, fix_note), file=sys.stderr)

    if result.failed or found.missing:
        return EXIT_ERROR
    if diff:
        # Like ruff: a diff means there is something to fix.
        return EXIT_FINDINGS if fixed.fixes and not args.exit_zero else EXIT_CLEAN
    failing_allows = report_unused_allows and allow_problems
    return EXIT_FINDINGS if (active or failing_allows) and not args.exit_zero else EXIT_CLEAN


def _summary(findings: int, files: int, problems, fix_note: str = "") -> str:
    noun = "finding" if findings == 1 else "findings"
    summary = f"{findings} {noun} in {files} file{'s' if files != 1 else ''}"
    if problems:
        summary += f"; {len(problems)} file{'s' if len(problems) != 1 else ''} not fully analysed"
    if fix_note:
        summary += f"; {fix_note}"
    return summary + "."


def _rule_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lint-ws rule", description="Print the doc of RULE_ID, or list every rule.")
    parser.add_argument("rule_id", nargs="?", metavar="RULE_ID")
    return parser


def rule(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from lint_ws.catalogue import all_rules

    rules = all_rules()
    if args.rule_id is None:
        for doc in rules.values():
            print(f"{doc.id}  {doc.name:<24} {doc.level:<8} {doc.summary}")
        return EXIT_CLEAN
    doc = rules.get(args.rule_id.upper())
    if doc is None:
        parser.error(f"unknown rule id {args.rule_id} (known: {', '.join(rules)})")
    sys.stdout.write(f"# {doc.id} {doc.name}\n\n{doc.summary}\n\n{doc.doc}")
    return EXIT_CLEAN


COMMANDS = {"check": (_check_parser, check), "rule": (_rule_parser, rule)}


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lint-ws",
        description="Find connection-lifecycle anti-patterns in Rust and Python code.",
        epilog="commands:\n" + "".join(f"  {name:<8}{make().description}\n" for name, (make, _) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lint-ws, version {__version__}")
    parser.add_argument("command", choices=COMMANDS, help="check or rule; `lint-ws COMMAND -h` for its options")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments or arguments[0] not in COMMANDS:
        # --version, --help, or a usage error: argparse prints and exits.
        _main_parser().parse_args(arguments)
    make_parser, run = COMMANDS[arguments[0]]
    parser = make_parser()
    # Intermixed: options may follow paths (`lint-ws check src --select WS001 tests`).
    args = parser.parse_intermixed_args(arguments[1:])
    try:
        return run(parser, args)
    except KeyboardInterrupt:
        print("lint-ws: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
