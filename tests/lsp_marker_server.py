"""``python -m lint_ws.server`` with the marker rules of ``marker_rules.py`` in place of the
real ones: the tests of fix-all and of safe quick fixes need safe fixes, which no real rule
offers yet. Run as a script, so that this directory is on ``sys.path``."""

from marker_rules import MARKER_RULES, install

from lint_ws.server import main

if __name__ == "__main__":
    install(MARKER_RULES, lambda mapping, key, value: mapping.__setitem__(key, value), setattr)
    main()
