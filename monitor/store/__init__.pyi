"""Everything kept in the database: every table and the engine (SQLite by default, PostgreSQL by URL),
Alembic migrations, recording a fetch, re-extraction from the archive, crawl locks, the source
standing every surface shows, the digest outbox's state transitions, search and the read side.
"""

from .change_text import change_text_lines
from .crawl_hosts import (
    ROBOTS_MAX_AGE,
    CrawlHost,
    RobotsTxt,
    load_last_requests,
    load_robots,
    robots_fresh,
    save_last_requests,
    save_robots,
)
from .db import SCHEMA_LOCK, StorageError, make_engine, open_db, session_scope
from .derive import DerivedColumns, DiffJob, derive_columns
from .fleet_tables import CrawlCycle, CycleItem
from .health import FailingSource, failing_sources
from .leader import Leadership, advisory_lock
from .lock import claim_sources, force_release, lock_name
from .migrate import copy_database, copy_snapshots
from .models import READ_INDEXES, Change, Fetch, Source, Version
from .outbox import (
    DigestEntry,
    DigestMessage,
    DigestSubscription,
    claim,
    due_now,
    mark_failed,
    mark_sent,
    mark_uncertain,
    outbox_messages,
    sendable,
)
from .persistence import alternating_of
from .query import (
    CHANGES_SCHEMA,
    change_record,
    find_version,
    list_changes,
    list_versions,
    versions_record,
)
from .record import (
    AlreadyRecorded,
    PlannedDiff,
    RecordResult,
    new_version,
    plan_diff,
    record_fetch,
    sync_sources,
)
from .reextract import reextract
from .review import MAX_NOTE, ChangeReview, UnknownChange, mark_reviewed, reviews_for, unreviewed_counts
from .schema import upgrade
from .search import SearchBackend, SearchHit, backend_for, ensure_index, query_terms, search
from .standing import (
    GONE_STATUSES,
    FetchState,
    SourceStanding,
    SourceStatus,
    decide_standing,
    fetch_state,
    fetch_states,
    source_standings,
    standing_facts,
)
from .volatile import VolatileSite, load_sites, remember_sites

__all__ = [
    "DerivedColumns",
    "DiffJob",
    "PlannedDiff",
    "derive_columns",
    "plan_diff",
    "VolatileSite",
    "alternating_of",
    "load_sites",
    "remember_sites",
    "ROBOTS_MAX_AGE",
    "CrawlHost",
    "RobotsTxt",
    "load_last_requests",
    "load_robots",
    "robots_fresh",
    "save_last_requests",
    "save_robots",
    "Leadership",
    "MAX_NOTE",
    "ChangeReview",
    "UnknownChange",
    "mark_reviewed",
    "reviews_for",
    "unreviewed_counts",
    "due_now",
    "force_release",
    "lock_name",
    "AlreadyRecorded",
    "CHANGES_SCHEMA",
    "Change",
    "CrawlCycle",
    "CycleItem",
    "DigestEntry",
    "DigestMessage",
    "DigestSubscription",
    "FailingSource",
    "Fetch",
    "FetchState",
    "GONE_STATUSES",
    "READ_INDEXES",
    "RecordResult",
    "SCHEMA_LOCK",
    "SearchBackend",
    "SearchHit",
    "Source",
    "SourceStanding",
    "SourceStatus",
    "StorageError",
    "Version",
    "advisory_lock",
    "backend_for",
    "change_record",
    "change_text_lines",
    "claim",
    "claim_sources",
    "copy_database",
    "copy_snapshots",
    "decide_standing",
    "ensure_index",
    "failing_sources",
    "fetch_state",
    "fetch_states",
    "find_version",
    "list_changes",
    "list_versions",
    "make_engine",
    "mark_failed",
    "mark_sent",
    "mark_uncertain",
    "new_version",
    "open_db",
    "outbox_messages",
    "query_terms",
    "record_fetch",
    "reextract",
    "search",
    "sendable",
    "session_scope",
    "source_standings",
    "standing_facts",
    "sync_sources",
    "upgrade",
    "versions_record",
]
