"""Raw snapshot archive: every fetched body, content-addressed by sha256, gzip-compressed, stored once.

Layout under the snapshots directory (see snapshots/README.md):
    blobs/<first two hex>/<next two hex>/<sha256>.gz
A blob is written to a temporary file in the same directory, fsynced and renamed into place, so a
crash never leaves a half-written file under its final name; the database refers to a blob only
after `put` returned. Temporary files a killed writer left are removed at the next start.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import time
from pathlib import Path

from isal import igzip
from isal.isal_zlib import error as IsalError  # noqa: N812  (a corrupt stream; gzip's own errors are OSError)

from monitor.core import ArchivedBody

#: A temporary blob file this old was left by a killed writer (a live one renames it within seconds).
STALE_TEMPORARY_SECONDS = 600.0
# ISA-L's gzip (python-isal) writes the same gzip format as zlib, five times as fast: the seed notices
# compress to 35.3 % of their size in 0.14 ms each at its level 3, where zlib took 0.55 ms at level 4
# (33.7 %) on the same machine; it reads blobs three times as fast too. Every new body of every cycle is
# compressed (a page with a per-request nonce is a new body each time), so the time counts more than 2 %.
ARCHIVE_GZIP_LEVEL = 3


class ArchiveError(Exception):
    """The archive cannot be read or written (permissions, disk full, corrupt blob)."""


class Archive:
    """A directory of compressed, content-addressed raw bodies."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256[2:4] / f"{sha256}.gz"

    def put(self, body: bytes, digest: str | None = None) -> ArchivedBody:
        """Store `body` unless an identical body is already stored; atomic. `digest` is its sha256 if the
        caller computed it from these bytes already (the spider does, to compare with the last good body)."""
        digest = digest or hashlib.sha256(body).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return ArchivedBody(digest, len(body), target.stat().st_size, created=False)
        stored = igzip.compress(body, compresslevel=ARCHIVE_GZIP_LEVEL, mtime=0)
        try:
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            except FileNotFoundError:  # the first blob of its directory
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(stored)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ArchiveError(f"cannot write snapshot {target}: {exc}") from exc
        return ArchivedBody(digest, len(body), len(stored), created=True)

    def get(self, sha256: str) -> bytes:
        """Return the raw body; verify it still hashes to its name."""
        path = self.path_for(sha256)
        try:
            body = igzip.decompress(path.read_bytes())
        except FileNotFoundError:
            raise ArchiveError(f"snapshot {sha256} is missing from {self.root}") from None
        except (OSError, EOFError, gzip.BadGzipFile, IsalError) as exc:
            raise ArchiveError(f"snapshot {sha256} cannot be read: {exc}") from exc
        if hashlib.sha256(body).hexdigest() != sha256:
            raise ArchiveError(f"snapshot {sha256} is corrupt (hash mismatch)")
        return body

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def check_writable(self) -> None:
        """Fail early with a clear message if the archive directory cannot be used; clear stale temporaries."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.remove_stale_temporaries()
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise ArchiveError(f"snapshots directory {self.root} is not writable: {exc}") from exc

    def remove_stale_temporaries(self, older_than: float = STALE_TEMPORARY_SECONDS) -> int:
        """Delete temporary files a killed writer left behind (older than `older_than` seconds, so a
        concurrent writer's file in flight is left alone); returns how many were removed."""
        cutoff = time.time() - older_than
        removed = 0
        for pattern in ("blobs/*/*/.tmp-*", ".probe-*"):
            for path in self.root.glob(pattern):
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        return removed

    def blob_count(self) -> int:
        return sum(1 for _ in (self.root / "blobs").glob("*/*/*.gz")) if (self.root / "blobs").exists() else 0
