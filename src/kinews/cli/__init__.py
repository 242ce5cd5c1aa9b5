"""The `kinews` command (entry point `kinews.cli:main`)."""

from kinews.cli.app import app, main

__all__ = ["app", "main"]
