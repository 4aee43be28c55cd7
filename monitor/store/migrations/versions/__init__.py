"""The Alembic revisions of the schema, one file each, applied in order by `noticewatch db upgrade`."""
