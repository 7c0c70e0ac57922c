"""The onestop command line: the click group and its commands (entry point monitor.cli:main)."""

from monitor.cli.main import main

__all__ = ["main"]
