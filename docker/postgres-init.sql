-- Run once by the postgres image when it initializes its data directory.
-- Through PgBouncer in transaction mode the receiver sends no session settings: the
-- statement timeout it would set per session is the role's instead.
ALTER ROLE receiver SET statement_timeout = '10s';
