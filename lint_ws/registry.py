"""The one place rules are registered: every check module, by language.

Modules are imported lazily, per language, so a run over Rust files never imports libcst
and a run over Python files never loads tree-sitter.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from lint_ws.findings import Finding

RULE_MODULES: dict[str, tuple[str, ...]] = {
    "rust": (
        "lint_ws.rust.rules.ws001_try_send_disconnect",
        "lint_ws.rust.rules.ws002_abort_without_close",
        "lint_ws.rust.rules.ws003_drop_without_close",
        "lint_ws.rust.rules.ws004_check_then_send",
        "lint_ws.rust.rules.ws005_no_reconnect",
    ),
    "python": (
        "lint_ws.python.rules.ws001_try_send_disconnect",
        "lint_ws.python.rules.ws002_abort_without_close",
        "lint_ws.python.rules.ws003_drop_without_close",
        "lint_ws.python.rules.ws004_check_then_send",
        "lint_ws.python.rules.ws005_no_reconnect",
    ),
}

# The language front end of each language: ``analyse(source, checks) -> list[Finding]``.
FRONTENDS = {"rust": "lint_ws.rust.frontend", "python": "lint_ws.python.frontend"}


@dataclass(frozen=True)
class RuleCheck:
    rule_id: str
    language: str
    check: Callable[[Any], Iterable[Finding]]
    # Substrings of which at least one must occur in a file for the rule to be able to
    # fire there; a file with none skips the rule, and with no rule left, the parse.
    triggers: tuple[str, ...]
    # A second condition, for rules that need two things at once (a state check and a
    # send): when given, at least one of these must occur too.
    requires: tuple[str, ...] = ()
    # A finer test of the text, run once the words matched (Python: could anything here be
    # a connection?); False means the rule cannot fire.
    evidence: Callable[[str], bool] | None = None
    # A test of what the language's cheap parse tells (Python: the ``ast`` module's tree,
    # summarised by the front end), run before the parse the rule needs; False: cannot fire.
    syntax_evidence: Callable[[Any], bool] | None = None

    def may_fire(self, text: str) -> bool:
        return (
            any(trigger in text for trigger in self.triggers)
            and (not self.requires or any(word in text for word in self.requires))
            and (self.evidence is None or self.evidence(text))
        )


@cache
def checks_for(language: str, selected: frozenset[str]) -> tuple[RuleCheck, ...]:
    """The checks of ``language`` whose rule id is in ``selected``, in module order.

    Asked once per file; cached, since a run has one selection (a few with per-file-ignores).
    """
    checks = []
    for module_name in RULE_MODULES[language]:
        module = importlib.import_module(module_name)
        if module.RULE_ID in selected:
            checks.append(
                RuleCheck(
                    module.RULE_ID,
                    language,
                    module.check,
                    module.TRIGGERS,
                    getattr(module, "REQUIRES", ()),
                    getattr(module, "EVIDENCE", None),
                    getattr(module, "SYNTAX_EVIDENCE", None),
                )
            )
    return tuple(checks)


def frontend(language: str):
    return importlib.import_module(FRONTENDS[language])
