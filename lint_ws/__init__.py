"""lint-ws: find connection-lifecycle anti-patterns in Rust and Python code."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/lint-ws/lint-ws"
