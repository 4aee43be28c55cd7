"""The raw archive: content-addressed, compressed, stored once, atomic, verified on read."""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.archive.blobs import Archive, ArchiveError


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=4096))
def test_put_then_get_returns_the_same_bytes(tmp_path_factory, body):
    archive = Archive(tmp_path_factory.mktemp("a"))
    stored = archive.put(body)
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    assert archive.get(stored.sha256) == body


def test_identical_body_is_stored_once(tmp_path):
    archive = Archive(tmp_path)
    first = archive.put(b"<html>notice</html>" * 100)
    second = archive.put(b"<html>notice</html>" * 100)
    assert first.created and not second.created
    assert archive.blob_count() == 1
    assert first.stored_size < first.size  # compressed


def test_crash_during_write_leaves_no_file_under_the_final_name(tmp_path, monkeypatch):
    archive = Archive(tmp_path)
    body = b"half written"

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ArchiveError, match="disk full"):
        archive.put(body)
    target = archive.path_for(hashlib.sha256(body).hexdigest())
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temporary file is gone too


def test_corrupt_blob_is_detected(tmp_path):
    archive = Archive(tmp_path)
    stored = archive.put(b"original")
    archive.path_for(stored.sha256).write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(ArchiveError, match="corrupt"):
        archive.get(stored.sha256)


def test_missing_blob_is_a_clear_error(tmp_path):
    with pytest.raises(ArchiveError, match="missing"):
        Archive(tmp_path).get("0" * 64)
