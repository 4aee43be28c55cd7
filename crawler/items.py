"""What the spider hands to the pipelines: one fetch of one source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class FetchItem:
    """The outcome of fetching one source once, successful or not.

    `body` is None when nothing usable came back; then `error` says why. `document` is the text the
    spider already extracted (to judge the fetch); `suspicious` says why the body is not the notice;
    `moved_to` is set when a permanent redirect led to another address. `same_body` says the body is
    the last good fetch's under the same extraction rules: recorded unchanged, never parsed.
    """

    source_id: str
    url: str
    fetched_at: datetime
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    not_modified: bool = False
    discovered_url: str | None = None
    blob_sha256: str | None = None
    blob_created: bool = False
    outcome: str | None = None
    cycle_id: str | None = None  # set in worker mode, where one crawl serves many cycles
    document: Any = None
    suspicious: str | None = None
    moved_to: str | None = None
    moved_from: str | None = None
    same_body: bool = False
    extract_error: str | None = None  # the page could not be extracted (error, time limit): a failed fetch
