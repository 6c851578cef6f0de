"""The `sparkify` command: a thin layer over the library."""

from sparkify.cli.main import cli, main

__all__ = ["cli", "main"]
