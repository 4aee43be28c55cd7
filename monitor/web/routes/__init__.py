"""The web app's routes, one module per resource: overview, notices (versions, blame, raw), diffs and changes,
search, feeds. Each page's JSON twin is the same data under /api."""

from monitor.web.routes import diffs, feeds, notices, overview, search

ROUTERS = (overview.router, notices.router, diffs.router, search.router, feeds.router)

__all__ = ["ROUTERS"]
