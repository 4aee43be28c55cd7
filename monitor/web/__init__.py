"""The history browser: a read-only web app (pages, JSON API, Atom feeds) over the database and archive.

`monitor.web.app.create_app` builds the ASGI app; `noticewatch serve` runs it with uvicorn. The
modules split the work: `views` gathers the data every page and its JSON twin show, `blame` and
`wordiff` compute clause history and word-level highlights, `charts` lays out the inline SVG,
`feeds` writes Atom, `security` guards the doors, `templating` finds the templates.
"""
