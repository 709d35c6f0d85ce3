"""Test-only rules registered over the real ones: a finding wherever a pattern matches, with
a fix that rewrites the match. Tests of the fix machinery use them so as not to depend on
which real rules attach fixes (none attaches a safe one today)."""

from __future__ import annotations

import re
import types
from collections.abc import Callable

from lint_ws import registry
from lint_ws.findings import Applicability, Edit, Finding, Fix

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE

# rule id: (pattern, replacement template, applicability)
MARKER_RULES = {
    "WS001": (r"safe_target\((\d)\)", "fixed_target(\n        \\1,\n    )", SAFE),
    "WS002": (r"risky_target", "careful_target", UNSAFE),
    "WS003": (r"break_me", ")(", SAFE),
    "WS004": (r"alpha_beta", "ALPHA_beta", SAFE),
    "WS005": (r"beta", "BETA", SAFE),
}


def marker_rule(rule_id, pattern, replacement, applicability):
    module = types.ModuleType(f"lint_ws_test_marker_{rule_id}")
    module.RULE_ID = rule_id

    def check(context):
        source = context.source
        for match in re.finditer(pattern, source.text):
            edit = Edit(match.start(), match.end(), match.expand(replacement))
            yield Finding(
                rule_id,
                source.path,
                source.span_from_offsets(match.start(), match.end()),
                f"marker {match.group()}",
                fix=Fix(f"rewrite {match.group()}", applicability, (edit,)),
            )

    module.check = check
    return module


def install(rules: dict, set_item: Callable, set_attribute: Callable) -> None:
    """Register ``rules`` in place of the real ones through the setters given
    (``monkeypatch.setitem`` / ``setattr`` in a test, plain assignment in a child process)."""
    import sys

    names = {}
    for rule_id, spec in rules.items():
        module = marker_rule(rule_id, *spec)
        set_item(sys.modules, module.__name__, module)
        names[rule_id] = module.__name__
    prefilters = types.ModuleType("lint_ws_test_marker_prefilters")
    prefilters.PREFILTERS = {rule_id: registry.Prefilter(triggers=("",)) for rule_id in rules}
    set_item(sys.modules, prefilters.__name__, prefilters)
    set_attribute(registry, "RULE_MODULES", {"rust": names, "python": names})
    set_attribute(registry, "PREFILTER_MODULES", {"rust": prefilters.__name__, "python": prefilters.__name__})
    registry.checks_for.cache_clear()
