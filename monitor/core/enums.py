"""The small vocabularies every step shares, each defined once: fetch outcomes, standings, significance.

They are `StrEnum`s, so the stored and JSON values stay the plain strings they always were.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class FetchOutcome(StrEnum):
    """What one recorded fetch came to."""

    FIRST = "first"  # the source's first version
    CHANGED = "changed"  # a new version
    UNCHANGED = "unchanged"  # same text as the current version
    NOT_MODIFIED = "not_modified"  # HTTP 304 on our validators
    FAILED = "failed"  # no usable body: network error, HTTP error, tiny body, extraction failure
    SUSPICIOUS = "suspicious"  # a body that is not the notice (wall, error page, lost most of its text)
    DUPLICATE = "duplicate"  # another fleet worker recorded this cycle's fetch first (never stored)

    @property
    def is_success(self) -> bool:
        """A fetch that read the notice (its text is the current version)."""
        return self in SUCCESS_OUTCOMES


SUCCESS_OUTCOMES = frozenset({FetchOutcome.FIRST, FetchOutcome.CHANGED, FetchOutcome.UNCHANGED,
                              FetchOutcome.NOT_MODIFIED})
# Fetches whose body was read and accepted as the notice (a 304 has no body of its own).
ACCEPTED_OUTCOMES = frozenset({FetchOutcome.FIRST, FetchOutcome.CHANGED, FetchOutcome.UNCHANGED})


class Standing(StrEnum):
    """Where a watched notice stands, as every surface shows it (decided by `monitor.store.source_standing`)."""

    OK = "ok"
    FAILING = "failing"  # the last fetch failed (network, HTTP error, tiny body, extraction)
    SUSPICIOUS = "suspicious"  # the last fetch was held back: a wall, an error page, most of the text lost
    GONE = "gone"  # 404/410 on `crawl.gone_after` consecutive cycles
    MOVED = "moved"  # a permanent redirect: the history goes on at the new address
    STALE = "stale"  # no good fetch within `[schedule] stale_after` (or never)


class Significance(StrEnum):
    """How much a change matters, in increasing order: compare with `rank`, never with the strings."""

    COSMETIC = "cosmetic"
    MINOR = "minor"
    MATERIAL = "material"

    @property
    def rank(self) -> int:
        return SIGNIFICANCE_ORDER.index(self)

    @classmethod
    def rank_of(cls, value: str | None) -> int:
        """The rank of a stored value; an unknown or missing one counts as material (never hidden)."""
        try:
            return cls(value).rank
        except ValueError:
            return cls.MATERIAL.rank


SIGNIFICANCE_ORDER = (Significance.COSMETIC, Significance.MINOR, Significance.MATERIAL)


class ExitCode(IntEnum):
    """The exit codes of every `noticewatch` command (the daemon reads its children's by these names)."""

    OK = 0
    NOT_FOUND = 1  # nothing found for the request (unknown version, ...)
    CONFIG = 2  # configuration or usage error
    STORAGE = 3  # database or archive error
    STALE = 4  # `status`: a source had no good fetch within [schedule] stale_after
    BUSY = 75  # EX_TEMPFAIL: every requested source is being crawled elsewhere; try again later
