"""The history browser: a read-only web app (pages, JSON API, Atom feeds) over the database and archive."""

from monitor.web.app import create_app
from monitor.web.context import WebSettings
from monitor.web.security import UnsafeBinding, allowed_hosts_for, credentials_for

__all__ = ["UnsafeBinding", "WebSettings", "allowed_hosts_for", "create_app", "credentials_for"]
