-- What a Redshift database has that PostgreSQL lacks, as far as the tool reads it: the load system
-- views with exactly the columns and types AWS documents (Redshift Database Developer Guide:
-- STL_LOAD_ERRORS, STL_LOAD_COMMITS, SYS_LOAD_ERROR_DETAIL, SYS_LOAD_DETAIL), PG_LAST_COPY_ID()
-- and GETDATE(). They are tables here, written only by the stand-in's COPY, from its own
-- connection: like Redshift's system tables, they keep a COPY's rows when its transaction rolls back.
-- CHAR(n) is what AWS documents; Redshift counts CHAR in bytes, the stand-in truncates by bytes.

CREATE TABLE public.stl_load_errors (
    userid           integer,
    slice            integer,
    tbl              integer,
    starttime        timestamp,
    session          integer,
    query            integer,
    filename         character(256),
    line_number      bigint,
    colname          character(127),
    type             character(10),
    col_length       character(10),
    position         integer,
    raw_line         character(1024),
    raw_field_value  character(1024),
    err_code         integer,
    err_reason       character(100),
    is_partial       integer,
    start_offset     bigint,
    copy_job_id      bigint
);

CREATE TABLE public.stl_load_commits (
    userid         integer,
    query          integer,
    slice          integer,
    name           character(256),
    filename       character(256),
    byte_offset    integer,
    lines_scanned  integer,
    errors         integer,
    curtime        timestamp,
    status         integer,
    file_format    character(16),
    is_partial     integer,
    start_offset   bigint,
    copy_job_id    bigint
);

CREATE TABLE public.sys_load_error_detail (
    user_id         integer,
    query_id        bigint,
    transaction_id  bigint,
    session_id      integer,
    database_name   character(64),
    table_id        integer,
    start_time      timestamp,
    file_name       character(256),
    line_number     bigint,
    column_name     character(127),
    column_type     character(10),
    column_length   character(10),
    position        integer,
    error_code      integer,
    error_message   character(512)
);

CREATE TABLE public.sys_load_detail (
    user_id             integer,
    query_id            integer,
    file_name           character(256),
    bytes_scanned       integer,
    lines_scanned       integer,
    record_time         timestamp,
    splits_scanned      integer,
    start_time          timestamp,
    end_time            timestamp,
    file_etag           character(256),
    file_last_modified  timestamp
);

-- The stand-in's own bookkeeping (not Redshift's): query ids, and each session's last COPY.
-- STV_SLICES (node, slice, localslice, type): three slices, an odd count, so that batches cut to a
-- multiple of the slice count show it.
CREATE TABLE public.stv_slices (
    node        integer,
    slice       integer,
    localslice  integer,
    type        character(1)
);
INSERT INTO public.stv_slices VALUES (0, 0, 0, 'D'), (0, 1, 1, 'D'), (1, 2, 0, 'D');

CREATE SCHEMA standin;
CREATE SEQUENCE standin.query_ids START 1000;
CREATE TABLE standin.last_copy (session integer PRIMARY KEY, query integer NOT NULL);

-- "The query ID of the most recently completed COPY command in the current session ... -1 if no
-- COPY command has been run in the current session" (PG_LAST_COPY_ID). Not transactional, as there.
CREATE FUNCTION public.pg_last_copy_id() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT query FROM standin.last_copy WHERE session = pg_backend_pid()), -1)
$$;

-- "The current date and time in the current session time zone ... the start date or time of the
-- current statement, even when it is within a transaction block" (GETDATE); whole seconds.
CREATE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql STABLE AS $$
    SELECT date_trunc('second', statement_timestamp())::timestamp
$$;

-- How the stand-in refuses a statement: a real error from the server, so the session's
-- transaction is aborted exactly as Redshift's would be.
CREATE FUNCTION standin.refuse(code text, message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END
$$;
