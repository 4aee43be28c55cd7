"""`python -m monitor` is the `noticewatch` command."""

from monitor.cli import entrypoint

entrypoint()
