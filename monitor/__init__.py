"""noticewatch: watch privacy notices and report what changed, clause by clause.

The flow, one direction (each step a package with a small public face in its `__init__`):

    noticewatch.toml ──► crawler/      the Scrapy project (spider `notices`): fetching only
                           │ monitor.core.FetchResult (source, url, final url, status, headers, body, time, error)
                           ▼
                         archive/      raw body stored first: sha256-addressed, gzip, atomic, once
                         extract/      raw → Document (ordered blocks, heading paths); noise rules;
                           │           the suspicious-fetch check; notice links on a home page
                         dates/        the notice's own "last updated / effective" statement, with precision
                         diff/         previous Document vs new → clause changes, word diffs, flags, topics
                         store/        every table, engine, migrations, record, reextract, locks, standing,
                           │           outbox state, search, the read side
                           ├──► digest/    e-mail digests (view, render, slots, send over SMTP)
                           ├──► web/       history pages, JSON API, feeds
                           └──► cli/       every command; the composition root
                         schedule/     a cycle (the spider started by name), the plan, the daemon, status
                         fleet/        the shared Redis frontier, enqueue, the fleet's state

    core/      what every step shares: Document, FetchResult, enums (outcome, standing, significance),
               the UTC clock, template locations, log lines
    config/    noticewatch.toml, validated with one-line errors
    devtools/  the demo site, the demo, the evaluation harness, a PDF writer — never imported by the product

Import rules (import-linter, pyproject.toml): cli → devtools → schedule, fleet → digest, web → store →
diff → dates, extract, archive → config → core; monitor never imports crawler. docs/architecture.md
says where to add a noise rule, a date pattern, a topic, a digest channel or a web page.
"""

__version__ = "0.1.0"
