from lint_ws.server import main

main()
