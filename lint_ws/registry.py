"""The one place rules are registered: every check module, by language, and the module that
says when each rule can fire there.

Modules are imported lazily: a rule's check module (and with it libcst or tree-sitter) only
when a file passes that rule's prefilter, so a file no rule can fire in costs no parser
import, a run over Rust files never imports libcst, and one over Python never loads
tree-sitter.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, NamedTuple

from lint_ws.findings import Finding

RULE_MODULES: dict[str, dict[str, str]] = {
    "rust": {
        "WS001": "lint_ws.rust.rules.ws001_try_send_disconnect",
        "WS002": "lint_ws.rust.rules.ws002_abort_without_close",
        "WS003": "lint_ws.rust.rules.ws003_drop_without_close",
        "WS004": "lint_ws.rust.rules.ws004_check_then_send",
        "WS005": "lint_ws.rust.rules.ws005_no_reconnect",
    },
    "python": {
        "WS001": "lint_ws.python.rules.ws001_try_send_disconnect",
        "WS002": "lint_ws.python.rules.ws002_abort_without_close",
        "WS003": "lint_ws.python.rules.ws003_drop_without_close",
        "WS004": "lint_ws.python.rules.ws004_check_then_send",
        "WS005": "lint_ws.python.rules.ws005_no_reconnect",
    },
}

# Per language, a module whose ``PREFILTERS`` maps each rule id to its ``Prefilter``. It
# imports no parser: it is what decides whether one gets imported.
PREFILTER_MODULES = {"rust": "lint_ws.rust.prefilter", "python": "lint_ws.python.prefilter"}

# The language front end of each language: ``analyse(source, checks, prefilter) -> list[Finding]``.
FRONTENDS = {"rust": "lint_ws.rust.frontend", "python": "lint_ws.python.frontend"}


class Prefilter(NamedTuple):
    """When a rule can fire in a file. Every part is a necessary condition: a file that fails
    one cannot have a finding of the rule (``tests/test_rule_fixtures.py`` runs every fixture
    and example with and without the prefilter)."""

    # Substrings of which at least one must occur in a file for the rule to be able to
    # fire there; a file with none skips the rule, and with no rule left, the parse.
    triggers: tuple[str, ...]
    # A second condition, for rules that need two things at once (a state check and a
    # send): when given, at least one of these must occur too.
    requires: tuple[str, ...] = ()
    # A finer test of the text, run once the words matched (Python: could anything here be
    # a connection?).
    evidence: Callable[[str], bool] | None = None
    # A test of what the language's cheap parse tells (Python: the ``ast`` module's tree,
    # summarised by the front end), run before the parse the rule needs.
    syntax_evidence: Callable[[Any], bool] | None = None
    # Substrings that let the rule fire in a file of a project whose facts name a
    # connection even when no trigger occurs (the connection is opened in another file).
    project_triggers: tuple[str, ...] = ()

    def may_fire(self, text: str, project_has_connections: Callable[[], bool] | None = None) -> bool:
        """``project_has_connections`` is asked only when a project trigger decides."""
        if not any(trigger in text for trigger in self.triggers):
            if not (
                project_has_connections is not None
                and any(trigger in text for trigger in self.project_triggers)
                and project_has_connections()
            ):
                return False
        return (not self.requires or any(word in text for word in self.requires)) and (
            self.evidence is None or self.evidence(text)
        )


class RuleCheck(NamedTuple):
    rule_id: str
    language: str
    module: str  # where ``check(context) -> Iterable[Finding]`` is
    prefilter: Prefilter

    def may_fire(self, text: str, project_has_connections: Callable[[], bool] | None = None) -> bool:
        return self.prefilter.may_fire(text, project_has_connections)

    @property
    def syntax_evidence(self) -> Callable[[Any], bool] | None:
        return self.prefilter.syntax_evidence

    def check(self, context: Any) -> Iterable[Finding]:
        return importlib.import_module(self.module).check(context)


@cache
def checks_for(language: str, selected: frozenset[str]) -> tuple[RuleCheck, ...]:
    """The checks of ``language`` whose rule id is in ``selected``, in rule id order.

    Asked once per file; cached, since a run has one selection (a few with per-file-ignores).
    """
    prefilters = importlib.import_module(PREFILTER_MODULES[language]).PREFILTERS
    return tuple(
        RuleCheck(rule_id, language, module, prefilters[rule_id])
        for rule_id, module in sorted(RULE_MODULES[language].items())
        if rule_id in selected
    )


def frontend(language: str):
    return importlib.import_module(FRONTENDS[language])
