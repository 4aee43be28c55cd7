"""Schemathesis against the served OpenAPI schema: no generated request to any page, feed or API
operation may cause a server error (5xx). Runs on SQLite and PostgreSQL over a small real history."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.devtools.site import NoticeSite, SitePage, seed_text
from monitor.web import WebSettings, create_app
from tests.support import BACKENDS, fresh_postgres
from tests.support.web_history import History

KNOWN_SOURCES = ["partners4it", "cetit"]
KNOWN_QUERIES = ['"binnen 14 dagen"', "gegevens", "persoonlijke gegevens bewaren", '"', "NEAR(a b)"]


@pytest.fixture(scope="module", params=BACKENDS)
def web_app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schema")
    with contextlib.ExitStack() as stack:
        db_url = f"sqlite:///{tmp / 'db.sqlite'}" if request.param == "sqlite" else \
            stack.enter_context(fresh_postgres("nwweb"))
        yield from _web_app(db_url, tmp)


def _web_app(db_url: str, tmp):
    pages = {"partners4it": SitePage("Partners 4 IT BV", seed_text("partners4it")),
             "cetit": SitePage("CETIT bvba", seed_text("cetit"))}
    with NoticeSite(pages) as site:
        hist = History(site, db_url, tmp / "snapshots")
        hist.cycle()
        site.edit("partners4it", "binnen 30 dagen", "binnen 14 dagen")
        hist.cycle()
        hist.record("cetit", status=404)
    clock = lambda: dt.datetime(2026, 2, 1, tzinfo=dt.UTC)  # noqa: E731
    app = create_app(hist.engine, WebSettings(archive=hist.archive, clock=clock))
    yield app
    hist.engine.dispose()


def test_no_server_error_on_any_generated_request(web_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", web_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18  # every page, feed and API operation is in the schema
    for operation in operations:

        @given(case=operation.as_strategy(), data=st.data())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case, data) -> None:
            # Random ids mostly miss; mix in real ones so deep paths (diff, blame, search hits) run too.
            known = {"source": st.sampled_from(KNOWN_SOURCES), "number": st.integers(1, 3),
                     "change_id": st.integers(1, 2), "span": st.sampled_from(["1..2", "2..1", "1..1", "2..3"])}
            for name in list(case.path_parameters or {}):
                if name in known and data.draw(st.booleans()):
                    case.path_parameters[name] = data.draw(known[name])
            if case.query is not None and "q" in case.query and data.draw(st.booleans()):
                case.query["q"] = data.draw(st.sampled_from(KNOWN_QUERIES))
            response = case.call()
            assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query}: {response.text}"

        no_server_error()
