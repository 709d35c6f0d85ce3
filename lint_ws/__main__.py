import sys

from lint_ws.cli import main

sys.exit(main())
