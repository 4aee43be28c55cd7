"""Alembic migrations of the noticewatch schema (run by `noticewatch db upgrade` and at first start)."""
