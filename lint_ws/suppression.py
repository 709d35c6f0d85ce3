"""Inline suppressions: ``// lint-ws: allow(WS002)`` (Rust), ``# lint-ws: allow[WS002]`` (Python).

An allow comment suppresses findings on its own line and, when the comment is alone on its
line, on the next line. Only real comments count: the same text inside a string literal is
data, not a directive. Files without the marker text pay one substring search.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from lint_ws import catalogue
from lint_ws.findings import AllowCommentProblem, Edit, Finding, Problem, Severity
from lint_ws.source import SourceFile

MARKER = "lint-ws:"

# The directive must follow a comment marker directly, so prose that merely mentions it
# ("see lint-ws: allow(...) in the docs") is not one, while a second comment marker inside
# the same comment ("# type: ignore  # lint-ws: allow[WS002]") is honoured.
_DIRECTIVE = re.compile(r"(?:#|//)\s*lint-ws:\s*allow(?P<rest>.*)", re.IGNORECASE)
# Either bracket style is accepted in either language: mixing them up must not silently
# turn a rule-specific allow into a bare one, and there is nothing else they could mean.
_ID_LIST = re.compile(r"\s*(?:\((?P<paren>[^()\[\]]*)\)|\[(?P<square>[^()\[\]]*)\])")
_SYNTAX = "expected `lint-ws: allow(WS001, ...)`, `lint-ws: allow[WS001, ...]` or a bare `lint-ws: allow`"


class Allow(NamedTuple):
    line: int  # line of the comment
    covers: tuple[int, ...]  # lines whose findings it suppresses
    rule_ids: frozenset[str] | None  # None: a bare allow, every rule


def apply(
    source: SourceFile, findings: list[Finding], selected: frozenset[str], report_unused: bool
) -> tuple[list[Finding], list[Problem]]:
    """Mark the findings an allow comment covers as suppressed; report bad and unused allows.

    ``selected`` is the rules that ran on the file: an allow naming a rule that did not run
    cannot be judged unused.
    """
    if MARKER not in source.text:
        return findings, []
    allows, problems = parse_allows(source)
    if not allows:
        return findings, problems
    by_line: dict[int, list[Allow]] = {}
    for allow in allows:
        for line in allow.covers:
            by_line.setdefault(line, []).append(allow)
    used: set[tuple[Allow, str]] = set()
    marked = []
    for finding in findings:
        covering = [
            allow
            for allow in by_line.get(finding.span.start_line, ())
            if allow.rule_ids is None or finding.rule_id in allow.rule_ids
        ]
        if covering:
            used.update((allow, finding.rule_id) for allow in covering)
            finding = finding._replace(suppressed=True)
        marked.append(finding)
    if report_unused:
        problems.extend(_unused(source.path, allows, used, selected))
    problems.sort(key=lambda problem: problem.line)
    return marked, problems


def _unused(path: str, allows: list[Allow], used: set[tuple[Allow, str]], selected: frozenset[str]) -> Iterator[Problem]:
    used_allows = {allow for allow, _ in used}
    for allow in allows:
        if allow.rule_ids is None:
            # A bare allow may be there for a rule that did not run this time.
            if allow not in used_allows and selected.issuperset(catalogue.rule_ids()):
                yield _problem(path, allow.line, f"unused lint-ws allow comment: no finding {_where(allow)}")
            continue
        unused = sorted(rule for rule in allow.rule_ids & selected if (allow, rule) not in used)
        if unused:
            yield _problem(
                path, allow.line, f"unused lint-ws allow comment: no {', '.join(unused)} finding {_where(allow)}"
            )


def _where(allow: Allow) -> str:
    return "on this line" if allow.covers == (allow.line,) else "on this line or the next"


def _problem(path: str, line: int, message: str) -> AllowCommentProblem:
    return AllowCommentProblem(path, message, Severity.WARNING, line)


def parse_allows(source: SourceFile) -> tuple[list[Allow], list[Problem]]:
    """The allow comments of ``source``, and the problems of the malformed ones."""
    candidate_lines = _lines_containing(source, MARKER)
    if not candidate_lines:
        return [], []
    comments = _rust_comments(source, candidate_lines) if source.language == "rust" else _python_comments(source, candidate_lines)
    allows: list[Allow] = []
    problems: list[Problem] = []
    known = catalogue.rule_ids()
    for line, column, comment in comments:
        match = _DIRECTIVE.search(comment)
        if match is None:
            continue
        rest = match.group("rest")
        ids_match = _ID_LIST.match(rest)
        if ids_match is not None:
            listed = ids_match.group("paren") if ids_match.group("paren") is not None else ids_match.group("square")
            ids = [part.strip().upper() for part in listed.split(",")]
            after = rest[ids_match.end():]
            if not all(ids) or (after and not after[0].isspace()):
                problems.append(_problem(source.path, line, f"malformed lint-ws allow comment, ignored: {_SYNTAX}"))
                continue
            unknown = sorted(set(ids) - known)
            if unknown:
                problems.append(
                    _problem(
                        source.path,
                        line,
                        f"lint-ws allow comment names unknown rule id {', '.join(unknown)} (known: {', '.join(sorted(known))})",
                    )
                )
            rule_ids: frozenset[str] | None = frozenset(ids).intersection(known)
            if not rule_ids:
                continue
        elif rest.lstrip().startswith(("(", "[")) or (rest and not rest[0].isspace()):
            # "allow: WS002", "allow{WS002}", "allowWS002", an unclosed bracket: taking these
            # as a bare allow would silently suppress every rule.
            problems.append(_problem(source.path, line, f"malformed lint-ws allow comment, ignored: {_SYNTAX}"))
            continue
        else:
            rule_ids = None
        comment_only = source.line_text(line)[:column].strip() == ""
        allows.append(Allow(line, (line, line + 1) if comment_only else (line,), rule_ids))
    return allows, problems


def allow_edit(source: SourceFile, line: int, rule_id: str) -> Edit:
    """The edit that makes ``line`` allow ``rule_id``: the id joins the list of the allow
    comment already on that line (a second directive in one comment would not be read),
    else a new allow comment goes at the end of the line."""
    comments = _rust_comments(source, [line]) if source.language == "rust" else _python_comments(source, [line])
    for _, column, comment in comments:
        match = _DIRECTIVE.search(comment)
        ids_match = _ID_LIST.match(match.group("rest")) if match else None
        if ids_match is not None:
            closing_bracket = source.offset_of(line, column) + match.start("rest") + ids_match.end() - 1
            return Edit(closing_bracket, closing_bracket, f", {rule_id}")
    end = source.offset_of(line, len(source.line_text(line)))
    comment = f" // {MARKER} allow({rule_id})" if source.language == "rust" else f"  # {MARKER} allow[{rule_id}]"
    return Edit(end, end, comment)


def _lines_containing(source: SourceFile, needle: str) -> list[int]:
    lines = []
    position = source.text.find(needle)
    while position != -1:
        line, _ = source.position_of(position)
        if not lines or lines[-1] != line:
            lines.append(line)
        position = source.text.find(needle, position + 1)
    return lines


def _python_comments(source: SourceFile, lines: list[int]) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of the comments on ``lines``, from Python's own tokenizer."""
    import io
    import tokenize

    wanted = set(lines)
    last = lines[-1]
    tokens = tokenize.generate_tokens(io.StringIO(source.text).readline)
    try:
        for token in tokens:
            row, column = token.start
            if row > last:
                return
            if token.type == tokenize.COMMENT and row in wanted:
                yield row, column, token.string
    except (tokenize.TokenError, SyntaxError):
        # Invalid code: the comments up to the error still count; the front end reports
        # the syntax error itself.
        return


# What can hide `//` from the Rust lexer: comments, string literals (raw, byte, C), and
# char literals (which may be a quote character). A `'` that is not a char literal starts a
# lifetime or label and is skipped.
_RUST_TOKEN = re.compile(
    r"""
      (?P<line_comment>//)
    | (?P<block_comment>/\*)
    | (?<![\w])[bc]?r(?P<raw_hashes>\#*)"
    | (?P<string>")
    | '(?:\\(?:u\{[0-9A-Fa-f_]*\}|x[0-9A-Fa-f]{2}|.)|[^\\'\n\r])'
    """,
    re.VERBOSE,
)
_RUST_STRING_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
_RUST_BLOCK_COMMENT_PART = re.compile(r"/\*|\*/")


def _rust_comments(source: SourceFile, lines: list[int]) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of the line comments on ``lines``, lexing only up to the last one."""
    text = source.text
    wanted = set(lines)
    end = source.line_offsets[lines[-1]] if lines[-1] < len(source.line_offsets) else len(text)
    position = 0
    while position < end:
        token = _RUST_TOKEN.search(text, position, end)
        if token is None:
            return
        if token.group("line_comment") is not None:
            line_end = text.find("\n", token.start())
            line_end = len(text) if line_end == -1 else line_end
            line, column = source.position_of(token.start())
            if line in wanted:
                yield line, column, text[token.start():line_end].rstrip("\r")
            position = line_end
        elif token.group("block_comment") is not None:
            position = _skip_block_comment(text, token.end())
        elif token.group("raw_hashes") is not None:
            close = text.find('"' + token.group("raw_hashes"), token.end())
            position = len(text) if close == -1 else close + 1 + len(token.group("raw_hashes"))
        elif token.group("string") is not None:
            close = _RUST_STRING_END.match(text, token.end())
            position = len(text) if close is None else close.end()
        else:  # a char literal
            position = token.end()


def _skip_block_comment(text: str, position: int) -> int:
    """The offset after the block comment whose body starts at ``position`` (they nest)."""
    depth = 1
    while depth:
        part = _RUST_BLOCK_COMMENT_PART.search(text, position)
        if part is None:
            return len(text)
        depth += 1 if part.group() == "/*" else -1
        position = part.end()
    return position
