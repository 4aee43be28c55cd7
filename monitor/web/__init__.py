"""The history browser: a read-only web app (pages, JSON API, Atom feeds) over the database and archive.

`monitor.web.app.create_app` builds the ASGI app; `noticewatch serve` runs it with uvicorn. The
modules split the work: `views` gathers the data every page and its JSON twin show (word-level highlights come from
`monitor.diff.word_diff`), `blame` computes clause history, `charts` lays out the inline SVG,
`feeds` writes Atom, `security` guards the doors, `templating` finds the templates.
"""
