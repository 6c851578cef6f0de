-- What the analyst role, or any role it could SET ROLE to (a member in any way, NOINHERIT too),
-- can do beyond reading the star schema and the load log. grant_analyst refuses the role while any
-- row comes back. Parameter: the role's name (%(role)s).
WITH reachable AS (
    SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolreplication
    FROM pg_roles AS r
    WHERE pg_has_role(%(role)s, r.oid, 'MEMBER')
),
objects AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
)
SELECT rolname, 'is a superuser (reads and writes everything)' FROM reachable WHERE rolsuper
UNION ALL
SELECT rolname, 'has BYPASSRLS' FROM reachable WHERE rolbypassrls
UNION ALL
SELECT rolname, 'has CREATEROLE (can grant itself other roles)' FROM reachable WHERE rolcreaterole
UNION ALL
SELECT rolname, 'has REPLICATION (can stream every table)' FROM reachable WHERE rolreplication
UNION ALL
SELECT r.rolname, 'can still read staging (' || o.nspname || '.' || o.relname || ')'
FROM reachable AS r, objects AS o
WHERE o.nspname = 'staging' AND o.relname NOT IN ('loads', 'load_sources', 'removed_files') AND o.relkind <> 'S'
  AND has_table_privilege(r.oid, o.oid, 'SELECT')
UNION ALL
SELECT r.rolname, 'can write ' || o.nspname || '.' || o.relname
FROM reachable AS r, objects AS o
WHERE (o.relkind <> 'S' AND has_table_privilege(r.oid, o.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
   OR (o.relkind = 'S' AND has_sequence_privilege(r.oid, o.oid, 'USAGE, UPDATE'))
UNION ALL
SELECT r.rolname, 'can create objects in schema ' || n.nspname
FROM reachable AS r, pg_namespace AS n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
  AND has_schema_privilege(r.oid, n.oid, 'CREATE')
UNION ALL
SELECT r.rolname, 'can create temporary tables in database ' || current_database()
FROM reachable AS r WHERE has_database_privilege(r.oid, current_database(), 'TEMPORARY')
UNION ALL
SELECT r.rolname, 'can create schemas in database ' || current_database()
FROM reachable AS r WHERE has_database_privilege(r.oid, current_database(), 'CREATE');
