"""The raw archive: every fetched body stored first, content-addressed by sha256, gzip-compressed, once,
written atomically (temp file, fsync, replace) and verified on read.
"""

from monitor.archive.blobs import Archive, ArchiveError

__all__ = ["Archive", "ArchiveError"]
