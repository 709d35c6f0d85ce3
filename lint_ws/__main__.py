from lint_ws.cli import main

main()
