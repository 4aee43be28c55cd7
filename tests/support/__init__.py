"""Shared test helpers, one copy each.

- `cli`: REPO, run_cli (`noticewatch` as a child process)
- `databases`: a fresh PostgreSQL database per test, the backends, a private Redis key prefix
- `net`: a free loopback port, waiting with a deadline
- `smtp`: a real aiosmtpd server and the TOML pointing at it
- `seeds`: Documents built from the seed texts (a small predictable builder, not the extractor)
- `digest`: history from real seed edits; `digest_sample`: the committed sample digest
- `web_history`: a recorded history for the web tests; `scale`: worker processes
"""

from tests.support.cli import REPO, run_cli
from tests.support.databases import BACKENDS, POSTGRES_URL, REDIS_URL, fresh_postgres, redis_prefix
from tests.support.net import free_port, wait_for
from tests.support.smtp import SUBSCRIPTION_TOML, SMTPServer, mail_toml

__all__ = ["BACKENDS", "POSTGRES_URL", "REDIS_URL", "REPO", "SMTPServer", "SUBSCRIPTION_TOML", "fresh_postgres",
           "free_port", "mail_toml", "redis_prefix", "run_cli", "wait_for"]
