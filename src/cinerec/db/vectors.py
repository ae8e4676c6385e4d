"""Catalog vectors in PostgreSQL with pgvector: one table, one HNSW index per model, top-k search.

Where the vectors live: the table ``movie_vectors(model, movie_id, dim, content_hash,
embedding)``, one row per movie and embedding model. ``embedding`` is an untyped ``vector``
column because the dimension depends on the model (fast-USE 512, e5 384, ...); each model gets
its own *partial expression* HNSW index, ``USING hnsw ((embedding::vector(<dim>))
vector_cosine_ops) WHERE model = '<model>' AND dim = <dim>`` (pgvector's documented way to
index vectors of several dimensions in one column), and a search filters and orders by the same
expressions so the planner can use it. ``dim`` is in the predicate because an index build also
reads row versions that are already replaced but still visible to someone, and a model whose
dimension changed would otherwise fail the cast.

Why the table and index are created at first use and not by an Alembic migration: (1) the
index needs the model's dimension, known only when a model is used; (2) the ``vector``
extension may be installed after the schema was migrated, and a migration that was a no-op
then would never run again; (3) the table is a derived cache of the catalog (rebuilt from the
on-disk embedding cache at any time; nothing references it), not primary data. So it is
kept out of :data:`cinerec.db.tables.Base`'s metadata and SQLite/MariaDB never see it.

Index parameters (``benchmarks/pgvector_hnsw.py``, results in ``benchmarks/results/pgvector.md``):
``m = 16`` and ``ef_construction = 64`` (pgvector's defaults) and ``hnsw.ef_search`` chosen from
the model's number of rows by :func:`ef_search_for` (100 up to 300k rows, 200 up to 1M, 400
above), set per query in the search's transaction (``SET LOCAL``) and raised to the number of
rows fetched.
A search that would fetch as many rows as the model has, or more than pgvector's
``ef_search`` ceiling of 1000, is answered exactly (the uncast column matches no index).

Example:
    >>> index = sync_vectors(engine, model="e5", ids=[1, 2], vectors=v)  # doctest: +SKIP
    >>> index.search(query, k=10, exclude={1})  # doctest: +SKIP
    [(2, 0.83)]
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pgvector.psycopg import register_vector
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    cast,
    delete,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from cinerec.embeddings.index import check_vectors

log = logging.getLogger(__name__)

HNSW_M = 16
"""Neighbours per node in the HNSW graph (pgvector's default)."""
HNSW_EF_CONSTRUCTION = 64
"""Candidate list while building (pgvector's default)."""
EF_SEARCH = 100
"""Candidate list per query for up to 300k rows (the smallest of :data:`EF_SEARCH_BY_ROWS`)."""
EF_SEARCH_BY_ROWS: tuple[tuple[int, int], ...] = ((300_000, EF_SEARCH), (1_000_000, 200))
"""``(rows up to, ef_search)``, the smallest step that holds the model's rows applies; above the
last step, :data:`EF_SEARCH_BEYOND`. Chosen so recall@10 stays >= 0.95 by the measurements of
``benchmarks/pgvector_hnsw.py`` (clustered 384-d vectors, k = 10, m = 16, ef_construction = 64;
``benchmarks/results/pgvector.md``, ``pgvector_rule_300k.md`` and ``pgvector_1m_sweep.md``,
95% intervals over 1000 queries):

- 100k rows: 0.988 [0.981, 0.995] at ef_search 40, 1.000 [1.000, 1.000] at 100, in two runs.
  The real catalogs (9.7k and 45k movies) are far below that.
- 300k rows: 0.991 [0.985, 0.996] at 100, 0.997 at 150, 0.998 at 200; p99 26, 32 and 45 ms
  (load 15 on 2 shared cores), so 200 would cost latency for no needed recall.
- 1M rows: 0.933 [0.920, 0.946] at 100 (0.934 in a second build) misses 0.95; 0.964 [0.956,
  0.973] at 150, 0.975 [0.970, 0.980] at 200, 0.980 at 300. 200, not 150: a rebuilt graph is
  not the same graph (0.760 against 0.781 at ef_search 40 in two builds), and 150's interval
  comes within 0.006 of the target. Recall at a fixed ef_search falls as the table grows, so
  1M's need bounds everything between 300k and 1M.
- Above 1M nothing was measured: :data:`EF_SEARCH_BEYOND` extrapolates (the need grew from
  <= 100 at 300k rows to 150-200 at 1M; 400 doubles it again).

Latency at 1M was the same at 100 and 200 within the load's noise (p99 41-43 ms at load 6-7
on 2 shared cores); at 100k p99 was 6.8 ms at 100 and 11.1 ms at 200 on a quieter machine."""
EF_SEARCH_BEYOND = 400
"""``hnsw.ef_search`` above the last step of :data:`EF_SEARCH_BY_ROWS` (not measured)."""
EF_SEARCH_MAX = 1000
"""pgvector's ceiling for ``hnsw.ef_search``; larger fetches are answered exactly."""

BUILD_MEMORY_CAP_MB = 2048
"""Most ``maintenance_work_mem`` a build asks for (the graph of 100k x 384 needs ~300 MB)."""
_LOCK_KEY = 0x63696E65726563  # "cinerec": serialises writers of the table across processes


def ef_search_for(rows: int) -> int:
    """The ``hnsw.ef_search`` for an index of ``rows`` vectors (see :data:`EF_SEARCH_BY_ROWS`).

    Example:
        >>> ef_search_for(45_000), ef_search_for(300_000), ef_search_for(300_001)
        (100, 100, 200)
        >>> ef_search_for(1_000_000), ef_search_for(5_000_000)
        (200, 400)
    """
    limits = [limit for limit, _ in EF_SEARCH_BY_ROWS]
    step = bisect.bisect_left(limits, rows)
    return EF_SEARCH_BY_ROWS[step][1] if step < len(limits) else EF_SEARCH_BEYOND


metadata = MetaData()
movie_vectors = Table(
    "movie_vectors",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("movie_id", Integer, primary_key=True),
    Column("dim", SmallInteger, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("embedding", Vector(), nullable=False),
)


def pgvector_available(engine: Engine) -> bool:
    """True when ``engine``'s database is PostgreSQL with the ``vector`` extension usable.

    Installs the extension (``CREATE EXTENSION IF NOT EXISTS vector``) when the server offers
    it and this user may; a refusal is logged and answers False.
    """
    if engine.dialect.name != "postgresql":
        return False
    try:
        with engine.begin() as conn:
            installed = conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
            if installed:
                return True
            offered = conn.scalar(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            )
            if not offered:
                return False
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            return True
    except DBAPIError as exc:
        log.warning(
            "pgvector is on the server but not usable here (%s); a superuser can run "
            "CREATE EXTENSION vector in this database. Using the in-process index.",
            str(exc.orig).splitlines()[0],
        )
        return False


def _index_name(model: str, dim: int) -> str:
    return f"ix_movie_vectors_{_model_digest(model)}_{dim}"


def _model_digest(model: str) -> str:
    return hashlib.sha1(model.encode("utf-8")).hexdigest()[:12]


def _content_hashes(vectors: np.ndarray) -> list[str]:
    return [hashlib.sha256(row.tobytes()).hexdigest() for row in vectors]


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync_vectors` did: rows written and deleted, whether it built the HNSW
    index, and the seconds spent writing (COPY + upsert + ANALYZE) and building."""

    written: int
    deleted: int
    index_built: bool
    write_seconds: float
    build_seconds: float


def sync_vectors(
    engine: Engine,
    *,
    model: str,
    ids: Sequence[int],
    vectors: np.ndarray,
    ef_search: int | None = None,
    m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    build_workers: int | None = None,
    build_memory_cap_mb: int = BUILD_MEMORY_CAP_MB,
) -> PgVectorIndex:
    """Make the stored vectors of ``model`` equal to ``ids``/``vectors``; return their index.

    Only rows whose vector changed are written (binary COPY into a staging table, then one
    ``INSERT ... ON CONFLICT`` upsert; a model's first load is copied straight into the
    table), ids no longer given are deleted, and the model's HNSW index is built after a
    first load (faster than growing it row by row) and maintained by PostgreSQL after that.

    Args:
        engine: a PostgreSQL engine where :func:`pgvector_available` is True.
        model: embedding model name; one model has one dimension.
        ids: one movie id per row of ``vectors``.
        vectors: ``(len(ids), dim)``; rows are normalised here.
        ef_search: the returned index's ``hnsw.ef_search`` (None: :func:`ef_search_for` its
            number of rows).
        m, ef_construction: HNSW build parameters (used when the index is built).
        build_workers: ``max_parallel_maintenance_workers`` for the build (None: server's).
        build_memory_cap_mb: at most this ``maintenance_work_mem`` for the build; a graph that
            does not fit is finished on disk, several times slower.

    Raises:
        ModelError: ids and vectors that do not match, or repeated ids.
    """
    ids_arr, unit = check_vectors(ids, vectors)
    dim = int(unit.shape[1]) if unit.ndim == 2 else 0
    hashes = _content_hashes(unit)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        movie_vectors.create(conn, checkfirst=True)
        stored = dict(
            conn.execute(
                select(movie_vectors.c.movie_id, movie_vectors.c.content_hash).where(
                    movie_vectors.c.model == model
                )
            ).all()
        )
        wanted = set(ids_arr.tolist())
        gone = [i for i in stored if i not in wanted]
        if gone:
            conn.execute(
                delete(movie_vectors).where(
                    movie_vectors.c.model == model, movie_vectors.c.movie_id.in_(gone)
                )
            )
        changed = [p for p, i in enumerate(ids_arr.tolist()) if stored.get(i) != hashes[p]]
        name = _index_name(model, dim)
        _drop_other_dimensions(conn, model, keep=name)
        has_index = _index_exists(conn, name)
        started = time.perf_counter()
        _copy_rows(
            conn,
            model,
            ids_arr[changed],
            [hashes[p] for p in changed],
            unit[changed],
            upsert=bool(stored),
        )
        if changed or gone:
            conn.exec_driver_sql("ANALYZE movie_vectors")  # row estimates for the planner
        written = time.perf_counter()
        built = bool(dim and len(ids_arr) and not has_index)
        if built:
            _build_index(
                conn,
                model,
                dim,
                name,
                m=m,
                ef_construction=ef_construction,
                rows=len(ids_arr),
                workers=build_workers,
                memory_cap_mb=build_memory_cap_mb,
            )
    report = SyncReport(
        written=len(changed),
        deleted=len(gone),
        index_built=built,
        write_seconds=written - started,
        build_seconds=time.perf_counter() - written,
    )
    log.info("pgvector %s: %s", model, report)
    index = PgVectorIndex(engine, model, dim=dim, count=len(ids_arr), ef_search=ef_search)
    index.sync_report = report
    return index


def _index_exists(conn: Connection, name: str) -> bool:
    return bool(conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}))


def _drop_other_dimensions(conn: Connection, model: str, *, keep: str) -> None:
    # An index over embedding::vector(d) fails on inserts of another dimension.
    names = conn.scalars(
        text(
            "SELECT indexname FROM pg_indexes "
            "WHERE tablename = 'movie_vectors' AND indexname LIKE :p"
        ),
        {"p": f"ix_movie_vectors_{_model_digest(model)}_%"},
    ).all()
    for name in names:
        if name != keep:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')


def _copy_rows(
    conn: Connection,
    model: str,
    ids: np.ndarray,
    hashes: list[str],
    vectors: np.ndarray,
    *,
    upsert: bool,
) -> None:
    if not len(ids):
        return
    raw: Any = conn.connection.driver_connection  # the psycopg connection, same transaction
    register_vector(raw)
    target = "movie_vectors_load" if upsert else "movie_vectors"
    if upsert:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE movie_vectors_load (model varchar(200), movie_id integer, "
            "dim smallint, content_hash varchar(64), embedding vector) ON COMMIT DROP"
        )
    with raw.cursor() as cursor:
        columns = "model, movie_id, dim, content_hash, embedding"
        dim = int(vectors.shape[1])
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN BINARY") as copy:
            copy.set_types(["varchar", "int4", "int2", "varchar", "vector"])
            for movie_id, digest, vector in zip(ids.tolist(), hashes, vectors, strict=True):
                copy.write_row((model, movie_id, dim, digest, vector))
    if upsert:
        conn.exec_driver_sql(
            "INSERT INTO movie_vectors SELECT * FROM movie_vectors_load "
            "ON CONFLICT (model, movie_id) DO UPDATE "
            "SET dim = EXCLUDED.dim, content_hash = EXCLUDED.content_hash, "
            "embedding = EXCLUDED.embedding"
        )
        conn.exec_driver_sql("DROP TABLE movie_vectors_load")


def _build_index(
    conn: Connection,
    model: str,
    dim: int,
    name: str,
    *,
    m: int,
    ef_construction: int,
    rows: int,
    workers: int | None,
    memory_cap_mb: int,
) -> None:
    # The graph is built fastest when it fits in maintenance_work_mem: about the vectors plus
    # 2m neighbour links per node; capped so a small server is not asked for too much.
    need_mb = int(rows * (dim * 4 + m * 2 * 10 + 64) * 1.5 / 2**20) + 64
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{min(need_mb, memory_cap_mb)}MB'")
    if workers is not None:
        conn.exec_driver_sql(f"SET LOCAL max_parallel_maintenance_workers = {int(workers)}")
    predicate = (
        ((movie_vectors.c.model == literal(model)) & (movie_vectors.c.dim == literal(dim)))
        .compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        .string.replace("movie_vectors.", "")
    )
    conn.exec_driver_sql(
        f'CREATE INDEX IF NOT EXISTS "{name}" ON movie_vectors USING hnsw '
        f"((embedding::vector({int(dim)})) vector_cosine_ops) "
        f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)}) WHERE {predicate}"
    )


class PgVectorIndex:
    """A model's vectors in PostgreSQL; ``search`` has :class:`ExactIndex`'s semantics.

    Scores are ``cosine(stored, query) * |query|``, i.e. the dot product with the unit stored
    vector, as the in-process indexes return; results are best first, ties by movie id.
    Make one with :func:`sync_vectors`. ``ef_search`` None (the default) chooses
    ``hnsw.ef_search`` from ``count``, the model's rows as :func:`sync_vectors` left them (known
    without a query), by :func:`ef_search_for`.
    """

    kind = "pgvector"

    def __init__(
        self,
        engine: Engine,
        model: str,
        *,
        dim: int,
        count: int,
        ef_search: int | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.dim = dim
        self.ef_search = ef_search
        self._count = count
        self.sync_report: SyncReport | None = None
        """What the :func:`sync_vectors` call that made this index did (None otherwise)."""

    def __len__(self) -> int:
        return self._count

    def ef_search_at(self, fetch: int) -> int:
        """The ``hnsw.ef_search`` a search fetching ``fetch`` rows sets: the index's own (or the
        one chosen from its rows), at least ``fetch``, at most pgvector's ceiling."""
        chosen = self.ef_search if self.ef_search is not None else ef_search_for(self._count)
        return min(max(chosen, fetch), EF_SEARCH_MAX)

    def _statement(self, query: np.ndarray, fetch: int) -> tuple[Any, bool]:
        exact = fetch >= self._count or fetch > EF_SEARCH_MAX
        column: Any = movie_vectors.c.embedding
        if not exact:  # the expression of the model's HNSW index
            column = cast(movie_vectors.c.embedding, Vector(self.dim))
        distance = column.cosine_distance(query)
        statement = (
            select(movie_vectors.c.movie_id, distance)
            .where(movie_vectors.c.model == self.model, movie_vectors.c.dim == self.dim)
            .order_by(distance)  # only the distance: an index scan gives that order
            .limit(fetch)
        )
        return statement, exact

    def _run(self, query: np.ndarray, fetch: int, explain: bool = False) -> list[Any]:
        statement, exact = self._statement(query, fetch)
        with self.engine.connect() as conn, conn.begin():
            if not exact:
                ef = self.ef_search_at(fetch)
                conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {int(ef)}")
                # The model is a bound parameter; a generic plan could not match the index's
                # WHERE model = '...' predicate, so every plan is made for the actual value.
                conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            if explain:
                compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
                return list(conn.exec_driver_sql(f"EXPLAIN {compiled}").scalars())
            return list(conn.execute(statement).all())

    def plan(self, query: np.ndarray, k: int) -> str:
        """PostgreSQL's plan for a top-``k`` search (shows whether the HNSW index serves it)."""
        return "\n".join(self._run(np.asarray(query, np.float32), min(k, self._count), True))

    def search(
        self, query: np.ndarray, k: int, exclude: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """The ``k`` most similar movie ids not in ``exclude``, with scores, best first."""
        if k <= 0 or not self._count:
            return []
        query = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        blocked = {int(i) for i in exclude}
        fetch = min(k + len(blocked), self._count)
        rows = self._run(query, fetch)
        hits = [(int(i), (1.0 - float(d)) * norm) for i, d in rows if int(i) not in blocked]
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]
