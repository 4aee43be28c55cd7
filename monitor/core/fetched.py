"""What the crawl hands the pipeline: one fetch of one source, typed, and where its raw body was archived."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.core.document import Document
from monitor.core.enums import FetchOutcome


@dataclass(frozen=True)
class ArchivedBody:
    """A raw body in the archive: its address (sha256), whether this put created it, its size on disk."""

    sha256: str
    size: int
    stored_size: int
    created: bool


@dataclass
class FetchResult:
    """The outcome of fetching one source once, successful or not.

    `body` is None when nothing usable came back; then `error` says why. `archived` is set by the
    archive stage before anything is derived from the body. `document` is the text the spider already
    extracted to judge the fetch (so it is not extracted twice); `suspicious` says why the body is not
    the notice; `moved_to` is set when a permanent redirect led to another address. `same_body` says
    the body is the last good fetch's under the same extraction rules: recorded unchanged, never parsed.
    `same_markup` says a new body's markup is the last good fetch's (it differs only in what extraction
    never reads, such as a script's nonce): recorded unchanged too, its Document not extracted.
    """

    source_id: str
    url: str
    fetched_at: datetime
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    body_sha256: str | None = None  # the body's sha256 when the crawl computed it (the archive's name for it)
    error: str | None = None
    not_modified: bool = False
    discovered_url: str | None = None
    archived: ArchivedBody | None = None
    outcome: FetchOutcome | None = None
    cycle_id: str | None = None  # set in worker mode, where one crawl serves many cycles
    document: Document | None = None
    suspicious: str | None = None
    moved_to: str | None = None
    moved_from: str | None = None
    confirm_document: Document | None = None  # the first of two fetches moments apart (text differed)
    held_fetches: int = 1  # suspicious: how many fetches of this cycle returned this same text
    same_body: bool = False
    same_markup: bool = False
    markup_sha256: str | None = None  # the hash of what the body's Document is made from (HTML only)
    extract_error: str | None = None  # the page could not be extracted (error, time limit): a failed fetch
    text_moved: bool = True  # False when the spider saw `document` equal the current version's text
    text_sha256: str | None = None  # `document`'s text hash as compared, computed where it was extracted
    learned_sites: tuple | None = None  # volatile sites `confirm_document` and `document` taught (there too)

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, whatever its case."""
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), None)
