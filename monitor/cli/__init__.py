"""The `noticewatch` command line: the composition root, one module per command group."""

from monitor.cli.main import entrypoint

__all__ = ["entrypoint"]
