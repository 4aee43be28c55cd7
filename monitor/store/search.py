"""Full-text search over every clause of every version of every notice.

A clause text that stands unchanged through twenty versions is stored and indexed once
(`SearchClause`), with one `SearchOccurrence` row per version it stood in, so a hit can say
"this sentence stood in v3–v7". The index is derived data: `ensure_index` brings it up to date
with the version table (new versions added, versions rebuilt by `reextract` or deleted dropped)
and is cheap when nothing changed.

Two backends behind one tiny interface (`SearchBackend.search`):
- SQLite: an FTS5 virtual table (`search_clause_fts`, rowid = clause id, unicode61 tokenizer with
  diacritics folded);
- PostgreSQL: `to_tsvector('simple', text)` with a GIN expression index and `websearch_to_tsquery`.
Both take the same user syntax: words (all must occur) and "quoted phrases".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field

from sqlalchemy import Column, Text, UniqueConstraint, delete, text
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from monitor.core import Document
from monitor.store.models import Version


class SearchClause(SQLModel, table=True):
    """A distinct clause of one source (kind, heading path and text), indexed once."""

    __tablename__ = "search_clause"
    __table_args__ = (UniqueConstraint("source_id", "key_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(index=True, max_length=80)
    key_sha256: str = Field(max_length=64)
    kind: str
    heading_path_json: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))


class SearchOccurrence(SQLModel, table=True):
    """A clause stood in a version, at a block position (no foreign key: versions may be rebuilt)."""

    __tablename__ = "search_occurrence"

    clause_id: int = Field(primary_key=True)
    version_id: int = Field(primary_key=True, index=True)
    block_index: int


class SearchIndexed(SQLModel, table=True):
    """A version whose clauses are in the index, with the text hash they were taken from."""

    __tablename__ = "search_indexed"

    version_id: int = Field(primary_key=True)
    text_sha256: str = Field(max_length=64)


@dataclass
class SearchHit:
    """One matching clause and the versions (numbers) it stood in."""

    clause_id: int
    source_id: str
    kind: str
    heading_path: list[str]
    text: str
    versions: list[int] = field(default_factory=list)
    latest_block_index: int | None = None  # its position in the latest version it stood in


_lock = threading.Lock()
_PHRASE = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """The user's query as phrases and words, punctuation dropped: `"a b" c` → ["a b", "c"]."""
    terms = []
    for match in _PHRASE.finditer(query or ""):
        words = _WORD.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if words:
            terms.append(" ".join(words))
    return terms


def _clause_key(kind: str, heading_path: list[str], body: str) -> str:
    raw = json.dumps([kind, heading_path, body], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class SearchBackend:
    """Finds clause ids for a query; subclasses speak one database's full-text dialect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def prepare(self, session: Session) -> None:
        """Create the backend's index structures if missing."""

    def add_clauses(self, session: Session, clauses: list[SearchClause]) -> None:
        """Index newly stored clauses."""

    def remove_clauses(self, session: Session, clause_ids: list[int]) -> None:
        """Drop clauses from the index."""

    def match_ids(self, session: Session, terms: list[str], source_id: str | None, limit: int) -> list[int]:
        raise NotImplementedError


class SqliteFtsBackend(SearchBackend):
    """SQLite FTS5: phrases in double quotes, implicit AND, ranked by bm25."""

    def prepare(self, session: Session) -> None:
        """Create the FTS5 table; refill it when it disagrees with search_clause (e.g. after migrate-storage,
        which copies the tables SQLModel knows, not this virtual one)."""
        session.exec(text("CREATE VIRTUAL TABLE IF NOT EXISTS search_clause_fts USING fts5("
                          "text, heading, tokenize='unicode61 remove_diacritics 2')"))
        indexed = session.connection().execute(text("SELECT count(*) FROM search_clause_fts")).scalar()
        stored = session.connection().execute(text("SELECT count(*) FROM search_clause")).scalar()
        if indexed != stored:
            session.connection().execute(text("DELETE FROM search_clause_fts"))
            for chunk in _chunks(list(session.exec(select(SearchClause))), 1000):
                self.add_clauses(session, chunk)

    def add_clauses(self, session: Session, clauses: list[SearchClause]) -> None:
        rows = [{"id": c.id, "text": c.text, "heading": " ".join(json.loads(c.heading_path_json))} for c in clauses]
        if rows:
            session.connection().execute(
                text("INSERT INTO search_clause_fts(rowid, text, heading) VALUES (:id, :text, :heading)"), rows)

    def remove_clauses(self, session: Session, clause_ids: list[int]) -> None:
        for chunk in _chunks(clause_ids, 500):
            session.connection().execute(text("DELETE FROM search_clause_fts WHERE rowid = :id"),
                                         [{"id": i} for i in chunk])

    def match_ids(self, session: Session, terms: list[str], source_id: str | None, limit: int) -> list[int]:
        match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        sql = ("SELECT f.rowid FROM search_clause_fts f JOIN search_clause c ON c.id = f.rowid "
               "WHERE search_clause_fts MATCH :match" + (" AND c.source_id = :source" if source_id else "")
               + " ORDER BY bm25(search_clause_fts, 1.0, 0.3), f.rowid LIMIT :limit")
        params = {"match": "{text}: (" + match + ")", "limit": limit, "source": source_id}
        return [row[0] for row in session.connection().execute(text(sql), params)]


class PostgresFtsBackend(SearchBackend):
    """PostgreSQL full text: `simple` configuration (no stemming across nl/en/de/fr), GIN index."""

    def prepare(self, session: Session) -> None:
        session.exec(text("CREATE INDEX IF NOT EXISTS search_clause_tsv ON search_clause "
                          "USING GIN (to_tsvector('simple', text))"))

    def match_ids(self, session: Session, terms: list[str], source_id: str | None, limit: int) -> list[int]:
        query = " ".join('"' + term + '"' for term in terms)
        sql = ("SELECT id FROM search_clause WHERE to_tsvector('simple', text) @@ "
               "websearch_to_tsquery('simple', :q)" + (" AND source_id = :source" if source_id else "")
               + " ORDER BY ts_rank(to_tsvector('simple', text), websearch_to_tsquery('simple', :q)) DESC, id"
               " LIMIT :limit")
        return [row[0] for row in session.connection().execute(
            text(sql), {"q": query, "limit": limit, "source": source_id})]


def backend_for(engine: Engine) -> SearchBackend:
    """The full-text backend that fits the database."""
    if engine.dialect.name == "sqlite":
        return SqliteFtsBackend(engine)
    if engine.dialect.name == "postgresql":
        return PostgresFtsBackend(engine)
    raise ValueError(f"no full-text search backend for {engine.dialect.name}")


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def ensure_index(engine: Engine, backend: SearchBackend | None = None) -> int:
    """Bring the index up to date with the version table; return how many versions were indexed."""
    backend = backend or backend_for(engine)
    with _lock, Session(engine) as session:
        backend.prepare(session)
        current = {vid: sha for vid, sha in session.exec(select(Version.id, Version.text_sha256))}
        indexed = {vid: sha for vid, sha in session.exec(select(SearchIndexed.version_id, SearchIndexed.text_sha256))}
        stale = [vid for vid, sha in indexed.items() if current.get(vid) != sha]
        for chunk in _chunks(stale, 500):
            session.exec(delete(SearchOccurrence).where(SearchOccurrence.version_id.in_(chunk)))
            session.exec(delete(SearchIndexed).where(SearchIndexed.version_id.in_(chunk)))
        if stale:
            orphans = list(session.exec(select(SearchClause.id).where(
                ~SearchClause.id.in_(select(SearchOccurrence.clause_id).distinct()))))
            backend.remove_clauses(session, orphans)
            for chunk in _chunks(orphans, 500):
                session.exec(delete(SearchClause).where(SearchClause.id.in_(chunk)))
        todo = sorted(vid for vid, sha in current.items() if indexed.get(vid) != sha)
        known: dict[str, dict[str, int]] = {}
        for chunk in _chunks(todo, 50):
            versions = session.exec(select(Version.id, Version.source_id, Version.text_sha256,
                                           Version.document_json).where(Version.id.in_(chunk))).all()
            for version_id, source_id, sha, document_json in versions:
                _index_version(session, backend, known, version_id, source_id, document_json)
                session.add(SearchIndexed(version_id=version_id, text_sha256=sha))
            session.commit()
        session.commit()
        return len(todo)


def _index_version(session: Session, backend: SearchBackend, known: dict[str, dict[str, int]],
                   version_id: int, source_id: str, document_json: str) -> None:
    if source_id not in known:
        known[source_id] = dict(session.exec(select(SearchClause.key_sha256, SearchClause.id)
                                             .where(SearchClause.source_id == source_id)).all())
    keys = known[source_id]
    document = Document.from_json(document_json)
    fresh: list[SearchClause] = []
    placed: dict[str, int] = {}
    for index, block in enumerate(document.blocks):
        key = _clause_key(block.kind, list(block.heading_path), block.text)
        if key in placed:
            continue
        placed[key] = index
        if key not in keys:
            clause = SearchClause(source_id=source_id, key_sha256=key, kind=block.kind, text=block.text,
                                  heading_path_json=json.dumps(list(block.heading_path), ensure_ascii=False))
            fresh.append(clause)
    session.add_all(fresh)
    session.flush()
    for clause in fresh:
        keys[clause.key_sha256] = clause.id
    backend.add_clauses(session, fresh)
    session.add_all(SearchOccurrence(clause_id=keys[key], version_id=version_id, block_index=index)
                    for key, index in placed.items())


def search(engine: Engine, query: str, *, source_id: str | None = None, limit: int = 50,
           backend: SearchBackend | None = None) -> list[SearchHit]:
    """Clauses matching `query` (all words, quoted phrases), best first, with their versions."""
    terms = query_terms(query)
    if not terms:
        return []
    backend = backend or backend_for(engine)
    ensure_index(engine, backend)
    with Session(engine) as session:
        ids = backend.match_ids(session, terms, source_id, limit)
        if not ids:
            return []
        clauses = {c.id: c for c in session.exec(select(SearchClause).where(SearchClause.id.in_(ids)))}
        spans = session.exec(select(SearchOccurrence.clause_id, Version.number, SearchOccurrence.block_index)
                             .join(Version, Version.id == SearchOccurrence.version_id)
                             .where(SearchOccurrence.clause_id.in_(ids))
                             .order_by(Version.number)).all()
    hits = {cid: SearchHit(cid, c.source_id, c.kind, json.loads(c.heading_path_json), c.text)
            for cid, c in clauses.items()}
    for clause_id, number, block_index in spans:
        hits[clause_id].versions.append(number)
        hits[clause_id].latest_block_index = block_index
    return [hits[i] for i in ids if i in hits and hits[i].versions]
