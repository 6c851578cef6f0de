"""The PostgreSQL warehouse: DuckDB parses the JSON, PostgreSQL stores and models it.

Staging (DuckDB-parsed rows carried in by COPY) is in pg_staging.py, the session's manners (load
lock, dead-client check, one-line errors) in pg_session.py. The star schema is built by SQL inside
PostgreSQL, in the load's single transaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import psycopg

from sparkify.config import mask_secrets, remember_url_secrets
from sparkify.errors import SparkifyError
from sparkify.scratch import ScratchDir
from sparkify.staging.parse import PrivateParser
from sparkify.staging.tables import SOURCES
from sparkify.warehouse import analyst
from sparkify.warehouse.base import STAR_TABLES, QueryResult, StageResult, Warehouse
from sparkify.warehouse.dialects import LOAD_ID_SETTING, LOAD_SINCE_SETTING, LOADS_FROM_SETTING
from sparkify.warehouse.migrate import rename_old_columns
from sparkify.warehouse.pg_session import first_line, pg_errors, take_load_lock, watch_client
from sparkify.warehouse.pg_staging import PostgresStaging, staging_ddl
from sparkify.warehouse.readonly import (refuse_script_transaction_control, refuse_transaction_control, run_read_only,
                                         split_script)
from sparkify.warehouse.sqlfiles import (MATCHES_VIEW, REMATCH, is_prune, model_statements, read_sql,
                                        split_statements, star_statements)

#: Our own sessions see the star schema unqualified, as DuckDB users do.
SEARCH_PATH = "analytics,staging,public"
#: Per sort/hash of our own sessions: the models sort every staged event; 4 MB (the default) spills.
WORK_MEM = "128MB"
#: Our own sessions' settings. A load's also takes temp_buffers (the default is 8 MB): the models'
#: temp tables (a row per staged event) stay in the session's memory instead of going through the
#: kernel page by page (page_views' temp table at 1 M events: 3.6–5.1 s against 5.0–6.2 s with
#: 8 MB; bench/RESULTS.md); memory is taken only as a temp table grows, and changes no result.
SESSION = f"-c search_path={SEARCH_PATH} -c work_mem={WORK_MEM}"
#: And no JIT: the models' statements run once each, and compiling their expressions cost more
#: than it saved (up to 0.16 s a statement at 1 M events); maintenance_work_mem (64 MB by
#: default) sorts a first load's fact indexes in memory.
LOAD_SESSION = "-c temp_buffers=256MB -c jit=off -c maintenance_work_mem=256MB"
#: An index older versions kept on songplays (user_id, session_id, item_in_session, start_time),
#: and the one of fact_keys.sql that takes its place.
OLD_EVENT_INDEX = "analytics.songplays_event"
USER_INDEX = "songplays_user_id"
#: Join methods the models avoid (build_star says why): their equi-joins are hashed.
PLANNER_OFF = ("enable_nestloop", "enable_mergejoin")
#: Whether the star holds plays yet, and page views (the dry run answers too: no, a first load).
FACTS_EXIST = ("SELECT EXISTS (SELECT 1 FROM analytics.songplays), "
               "EXISTS (SELECT 1 FROM analytics.page_views)")
#: Whether a table changed enough to need new statistics: never analyzed, or more rows inserted,
#: updated or deleted since (by committed loads, and by this transaction) than autovacuum's own
#: threshold (50 + 10 % of the rows).
ANALYZE_CHANGED = """
SELECT c.reltuples < 0 OR COALESCE(s.n_mod_since_analyze, 0)
       + COALESCE(x.n_tup_ins + x.n_tup_upd + x.n_tup_del, 0) > 50 + 0.1 * c.reltuples
FROM pg_class AS c
LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
LEFT JOIN pg_stat_xact_user_tables AS x ON x.relid = c.oid
WHERE c.oid = '{table}'::regclass
"""
#: The fact tables' keys and indexes, which a load into an empty fact table makes after its rows.
FACT_KEYS = "postgresql/fact_keys"
_INDEX = re.compile(r"\s*CREATE INDEX (\w+)\s+ON analytics\.(\w+)\s")
_KEY = re.compile(r'\s*ALTER TABLE analytics\.("?\w+"?) ADD CONSTRAINT (\w+)\s')
#: A model's temp table, in PostgreSQL's or (the contract test's) Redshift's spelling.
_TEMP_TABLE = re.compile(r'\s*CREATE TEMP TABLE (pg_temp\.\w+|"#\w+")')


class PostgresWarehouse(PostgresStaging, Warehouse):
    dialect = "postgresql"
    placeholder = "%s"
    scoped_checks = True
    #: The SQL the star schema is built in. "redshift" only in the contract test, where PostgreSQL
    #: runs the Redshift spelling of the models (MERGE, TIMESTAMP 'epoch' arithmetic, no hints).
    model_dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        remember_url_secrets(url)
        options = SESSION + (" -c default_transaction_read_only=on" if read_only else " " + LOAD_SESSION)
        try:
            extra = {} if "connect_timeout" in url else {"connect_timeout": 10}
            self.con = psycopg.connect(_libpq_url(url), autocommit=True, options=options,
                                       application_name="sparkify", **extra)
        except psycopg.Error as exc:
            raise SparkifyError(
                f"cannot connect to warehouse {mask_secrets(url)!r}: {mask_secrets(first_line(exc))}"
            ) from None
        self._parser = PrivateParser()
        #: This load deleted staged events of an earlier load (a replaced or removed file).
        self._replaced_events = False
        if not read_only:
            watch_client(self.con)
            self._migrate()

    @pg_errors
    def _migrate(self) -> None:
        """Rename what an older Sparkify named differently (see migrate.py), in one transaction;
        and index songplays by user_id instead of the whole event key (fact_keys.sql says why)."""
        with self.con.transaction():
            rename_old_columns(self.con.execute, lambda sql: self.con.execute(sql).fetchall(), self.dialect)
            if self.con.execute(f"SELECT to_regclass('{OLD_EVENT_INDEX}')").fetchone()[0]:  # type: ignore[index]
                self.con.execute(f"DROP INDEX {OLD_EVENT_INDEX}")
                self.con.execute(next(s for s in split_statements(read_sql(FACT_KEYS, self.dialect))
                                      if (m := _INDEX.match(s)) and m.group(1) == USER_INDEX))

    @classmethod
    def planned(cls, url: str, con: Any) -> "PostgresWarehouse":
        """This backend on a stand-in connection (the dry run's Recorder): nothing is connected."""
        self = cls.__new__(cls)
        self.url, self.con = url, con
        self._replaced_events = False
        return self

    # -- schema -------------------------------------------------------------------------------

    @pg_errors
    def tables_exist(self) -> bool:
        row = self.con.execute("SELECT to_regclass('analytics.songplays') IS NOT NULL").fetchone()
        return bool(row and row[0])

    @pg_errors
    def create_tables(self) -> None:
        with self.con.transaction():
            self._create_tables()

    def _create_tables(self) -> None:
        analysts = analyst.analysts(self.con)
        for name in ("postgresql/drop_tables", "postgresql/create_tables", FACT_KEYS):
            self._run_file(name)
        for source in SOURCES.values():
            self.con.execute(staging_ddl(source))
            # BRIN, not a btree: COPY keeps each load's rows together, in parts of a few files taken
            # in order (pg_staging.py), so a few bytes per 128 pages find a load's or a file's rows
            # (the models' load_id = MAX(load_id), a replaced file's DELETE), where a btree cost
            # COPY an insertion per row.
            self.con.execute(
                f"CREATE INDEX {source.table}_load_file ON staging.{source.table} USING brin (load_id, source_file)"
            )
        # And the files are day files taken in order, so the pages of a part span a few days: the
        # checks of a load that only added events read the staged events from its earliest one
        # on (answers/checks.py).
        self.con.execute("CREATE INDEX staging_events_ts ON staging.staging_events USING brin (ts)")
        for statement in model_statements(MATCHES_VIEW, self.dialect):
            self.con.execute(statement)
        for role in analysts:
            analyst.grant_read(self.con, role)

    def _run_file(self, name: str) -> None:
        for statement in split_statements(read_sql(name, self.dialect)):
            self.con.execute(statement)

    # -- loading ------------------------------------------------------------------------------

    @pg_errors
    def loaded_versions(self) -> dict[str, tuple[int, str]]:
        rows = self.con.execute("SELECT path, size, modified FROM staging.loaded_files").fetchall()
        return {path: (size, modified) for path, size, modified in rows}

    @pg_errors
    def lock(self) -> None:
        take_load_lock(self.con, mask_secrets(self.url))

    @pg_errors
    def unlock(self, commit: bool = True) -> None:
        if self.con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.con.execute("COMMIT" if commit else "ROLLBACK")

    @pg_errors
    def begin_load(self) -> int:
        self._replaced_events = False
        if self.con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            self.lock()
        return self._start_load()

    @pg_errors
    def begin_refresh(self) -> int:
        self._replaced_events = False
        if self.con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            self.lock()
        try:
            # The refresh's load_id continues the old numbering (see DuckDBWarehouse.begin_refresh).
            first = 1
            if self.con.execute("SELECT to_regclass('staging.load_id_seq') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
                first = self.con.execute("SELECT nextval('staging.load_id_seq')").fetchone()[0]  # type: ignore[index]
            self._create_tables()
            self.con.execute("SELECT setval('staging.load_id_seq', %s, false)", [first])
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return self._start_load()

    def _start_load(self) -> int:
        load_id = self.con.execute("SELECT nextval('staging.load_id_seq')").fetchone()[0]  # type: ignore[index]
        self.con.execute(
            "INSERT INTO staging.loads (load_id, started_at, status) "
            "VALUES (%s, clock_timestamp() AT TIME ZONE 'UTC', 'running')",
            [load_id],
        )
        return load_id  # type: ignore[no-any-return]  (an int; a Placeholder in the dry run)

    @pg_errors
    def build_star(self, songs_changed: bool) -> None:
        had_plays, had_views = self.con.execute(FACTS_EXIST).fetchone()  # type: ignore[misc]
        # A failed model rolls back to here, so abort_load can still save the load's rejects.
        self.con.execute("SAVEPOINT build_star")
        try:
            # The models join whole sets on the four-column event key, whose row estimate comes
            # out at 1: a nested loop chosen on it ran 200 k plays against 15 k songs for minutes.
            # Its hash join is costed as if every key fell in a few buckets (the estimate goes by
            # the first column, user_id, of a few thousand values), so the planner sorted both
            # sides for a merge join instead: page_views' 1 M events 5.3 s against 2.1 s hashed.
            for method in PLANNER_OFF:
                self.con.execute(f"SET {method} = off")
            # {{ this_load() }}: this load's id, as a setting the planner folds into its estimates.
            self.con.execute(f"SELECT set_config('{LOAD_ID_SETTING}', MAX(load_id)::text, true) FROM staging.loads")
            # {{ this_load_since() }}: its earliest staged event ('' when none), read once (BRIN)
            self.con.execute(f"SELECT set_config('{LOAD_SINCE_SETTING}', COALESCE(MIN(ts)::text, ''), true) "
                             f"FROM staging.staging_events WHERE load_id = current_setting('{LOAD_ID_SETTING}')::bigint")
            for table in ("staging.staging_events", "staging.staging_songs", "staging.text_repairs"):
                self._analyze_if_changed(table)
            rebuilt = self._set_aside_keys([t for t, full in (("songplays", had_plays), ('"time"', had_plays),
                                                              ("page_views", had_views)) if not full])
            statements = star_statements(self.model_dialect, songs_changed)
            for i, (model, statement) in enumerate(self.progress.building(statements)):
                if is_prune(statement) and not self._replaced_events:
                    continue  # no staged event was taken away (as on DuckDB)
                if model == REMATCH and not had_plays:
                    continue  # every play is new: matched as it was inserted
                for setting, table in dict.fromkeys(LOADS_FROM_SETTING.findall(statement)):
                    # {{ loads_to_read(table) }}, as it is right before the statement that reads it
                    self.con.execute(f"SELECT set_config('{setting}', CASE WHEN EXISTS (SELECT 1 FROM "
                                     f"analytics.\"{table}\") THEN current_setting('{LOAD_ID_SETTING}') "
                                     "ELSE '0' END, true)")
                self.con.execute(statement)
                temp = _TEMP_TABLE.match(statement)
                if temp:  # temp tables get no statistics otherwise (autovacuum never sees them)
                    self.con.execute(f"ANALYZE {temp.group(1)}")
                if model in STAR_TABLES and (i + 1 == len(statements) or statements[i + 1][0] != model):
                    self._analyze_if_changed(f'analytics."{model}"')  # fresh statistics for the next model
            for statement in rebuilt:  # one sort per index, one anti-join per foreign key
                self.con.execute(statement)
            # Deferred foreign keys are checked here, while a failure can still be reported.
            self.con.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for method in PLANNER_OFF:
                self.con.execute(f"RESET {method}")
        except psycopg.Error:
            self.con.execute("ROLLBACK TO SAVEPOINT build_star")
            raise

    def _analyze_if_changed(self, table: str) -> None:
        """ANALYZE `table` when more of it changed since its last statistics than autovacuum
        would wait for (ANALYZE_CHANGED): a small load leaves the distributions as they were, and
        ANALYZE reads up to 30 000 pages however little changed."""
        row = self.con.execute(ANALYZE_CHANGED.format(table=table)).fetchone()
        if row is None or row[0]:  # None: the dry run, which shows the ANALYZE
            self.con.execute(f"ANALYZE {table}")

    def _set_aside_keys(self, tables: list[str]) -> list[str]:
        """Drop the keys and indexes of these empty tables (sql/postgresql/fact_keys.sql);
        return their statements of that file, which make them again once the rows are in.

        Maintaining songplays' five indexes row by row and checking three foreign keys per row (a
        deferred trigger each) cost more than the rest of a first load together; page_views' two
        indexes cost more than its rows, and time's key (700 k insertions at 1 M events) as much
        as its rows. Each table stays locked until the commit, which readers
        of an empty table do not miss.
        """
        again, drops = [], []
        for statement in split_statements(read_sql(FACT_KEYS, self.dialect)):
            index = _INDEX.match(statement)
            key = _KEY.match(statement)
            if index and index.group(2) in tables:
                drops.append(f"DROP INDEX IF EXISTS analytics.{index.group(1)}")
            elif key and key.group(1) in tables:
                drops.append(f"ALTER TABLE analytics.{key.group(1)} DROP CONSTRAINT IF EXISTS {key.group(2)}")
            else:
                continue
            again.append(statement)
        for drop in reversed(drops):  # the foreign key to time's key goes before that key
            self.con.execute(drop)
        return again

    @pg_errors
    def commit_load(self, load_id: int, files: int, result: StageResult, checked: bool = False) -> None:
        self.con.execute(
            "UPDATE staging.loads SET finished_at = clock_timestamp() AT TIME ZONE 'UTC', status = 'committed', "
            "files = %s, records = %s, staged = %s, rejected = %s, checked = %s WHERE load_id = %s",
            [files, result.records, result.rows, result.rejected, checked, load_id],
        )
        self.con.execute("COMMIT")

    def abort_load(self, load_id: int, message: str) -> None:
        """Roll back, then keep the failed load's record, reconciliation and rejects: they say why."""
        kept = ("staging.loads", "staging.load_sources", "staging.load_errors")
        try:
            with ScratchDir() as tmp:
                saved: dict[str, str] = {}
                for table in kept:  # files outlive the rollback; the transaction's rows do not
                    path = os.path.join(tmp, f"{table}.copy")
                    try:
                        with open(path, "wb") as out, self.con.cursor() as cur, cur.copy(
                            f"COPY (SELECT * FROM {table} WHERE load_id = {int(load_id)}) TO STDOUT"
                        ) as copy:
                            out.writelines(copy)
                        saved[table] = path
                    except psycopg.Error:
                        break
                self.con.execute("ROLLBACK")
                with self.con.transaction():
                    for table, path in saved.items():
                        self._copy_in(f"COPY {table} FROM STDIN", path)
                    self.con.execute(
                        """
                        INSERT INTO staging.loads AS l
                            (load_id, started_at, finished_at, status, files, records, staged, rejected, message)
                        SELECT %s, now() AT TIME ZONE 'UTC', clock_timestamp() AT TIME ZONE 'UTC', 'failed',
                               sum(files), sum(records), sum(staged), sum(rejected), %s
                        FROM staging.load_sources WHERE load_id = %s
                        ON CONFLICT (load_id) DO UPDATE SET
                            finished_at = excluded.finished_at, status = excluded.status, files = excluded.files,
                            records = excluded.records, staged = excluded.staged, rejected = excluded.rejected,
                            message = excluded.message
                        """,
                        [load_id, mask_secrets(message), load_id],
                    )
        except psycopg.Error:
            # The connection itself is gone: the server rolls the load back; the caller reports why.
            pass

    # -- access -------------------------------------------------------------------------------

    @pg_errors
    def grant_analyst(self, role: str, password: str | None = None) -> tuple[bool, list[str]]:
        """Make `role` a read-only login of the star schema (see warehouse/analyst.py);
        (created, what was changed for other roles)."""
        return analyst.grant_analyst(self.con, role, password)

    def can_read(self, table: str) -> bool:
        row = self.con.execute("SELECT has_table_privilege(%s, 'SELECT')", [table]).fetchone()
        return bool(row and row[0])

    # -- querying -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        try:
            if self.read_only:
                return run_read_only(self.con, sql, params)
            cursor = self.con.execute(sql, list(params) or None)
            more = getattr(cursor, "nextset", None)  # the dry run's recording cursor has none
            while more and more():  # several statements (`sql --write`): the last one's result
                pass
        except psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {mask_secrets(first_line(exc))}") from None
        return QueryResult.of(cursor)

    def run_script(self, sql: str) -> list[QueryResult]:
        """Read-only: each statement alone in its rolled-back READ ONLY transaction (readonly.py).
        With writes: all in one transaction, rolled back at the first error (a single statement
        runs alone, so VACUUM and the like still can)."""
        statements = split_script(sql)
        if not statements:
            raise SparkifyError("no SQL statement to run")
        try:
            if self.read_only:
                for statement in statements:
                    refuse_transaction_control(statement)  # before anything runs
                return [run_read_only(self.con, statement) for statement in statements]
            refuse_script_transaction_control(statements)
            if len(statements) == 1:
                return [QueryResult.of(self.con.execute(statements[0]))]
            with self.con.transaction():
                return [QueryResult.of(psycopg.Cursor(self.con).execute(statement)) for statement in statements]
        except psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {mask_secrets(str(exc).strip() or type(exc).__name__)}") from None

    def audit(self, sql: str) -> QueryResult:
        """The check in a savepoint that is always rolled back: whatever it did is undone, and an
        error in it leaves the load's transaction usable."""
        if self.con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return self.query(sql)
        refuse_transaction_control(sql)  # a COMMIT here would publish the load unchecked
        self.con.execute("SAVEPOINT sparkify_check")
        try:
            return QueryResult.of(psycopg.Cursor(self.con).execute(sql, prepare=True))  # one statement, server-checked
        except psycopg.Error as exc:
            raise SparkifyError(f"SQL error: {mask_secrets(first_line(exc))}") from None
        finally:
            self.con.execute("ROLLBACK TO SAVEPOINT sparkify_check")
            self.con.execute("RELEASE SAVEPOINT sparkify_check")

    @pg_errors
    def write_parquet(self, select: str, path: str) -> None:
        """COPY the rows out as CSV (streamed to a temp file), then DuckDB writes them as Parquet
        with the columns' own types."""
        description = self.con.execute(f"SELECT * FROM ({select}) AS q LIMIT 0").description or []
        columns = {d.name: _DUCKDB_TYPES.get(_type_name(d.type_code), "VARCHAR") for d in description}
        with ScratchDir("sparkify-export-") as tmp:
            csv_path = os.path.join(tmp, "rows.csv")
            with open(csv_path, "wb") as out, self.con.cursor() as cur, cur.copy(
                f"COPY ({select}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)"
            ) as copy:
                for chunk in copy:
                    out.write(chunk)
            spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
            source, target = (p.replace("'", "''") for p in (csv_path, path))
            self.parser.execute(
                f"COPY (SELECT * FROM read_csv('{source}', columns = {spec}, header = false, quote = '\"', "
                f"escape = '\"', allow_quoted_nulls = false)) TO '{target}' (FORMAT parquet)"
            )

    def close(self) -> None:
        self.con.close()
        self._parser.close()


#: PostgreSQL type → DuckDB type, for `write_parquet` (anything else travels as VARCHAR).
_DUCKDB_TYPES = {"int8": "BIGINT", "int4": "INTEGER", "int2": "SMALLINT", "float8": "DOUBLE", "float4": "FLOAT",
                 "numeric": "DOUBLE", "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ",
                 "date": "DATE", "varchar": "VARCHAR", "text": "VARCHAR", "bpchar": "VARCHAR"}


def _type_name(oid: int) -> str:
    info = psycopg.adapters.types.get(oid)
    return info.name if info else ""


def _libpq_url(url: str) -> str:
    """libpq reads postgresql:// and postgres:// URLs; anything else we accept maps to them."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)
