#!/bin/sh
# Run once by Patroni on the node that initializes the cluster, with a superuser
# connection string: the receiver's role and database (replicated to the standby).
# The statement timeout is the role's too, as in docker/postgres-init.sql.
set -eu
password=$(cat /run/secrets/db_password)
psql "$1" -X -q -v ON_ERROR_STOP=1 -v password="$password" <<'SQL'
CREATE ROLE receiver LOGIN PASSWORD :'password';
ALTER ROLE receiver SET statement_timeout = '10s';
CREATE DATABASE receiver OWNER receiver;
SQL
