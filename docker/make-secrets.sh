#!/usr/bin/env bash
# Writes the secrets of docker/compose.yaml into docker/secrets/ (kept out of git):
# a random database password (with the database URLs and PgBouncer's userlist made
# from it), Patroni's passwords (profile ha), a random admin token, and a self-signed TLS certificate for trying it
# out; replace tls_cert and tls_key by the real ones. Existing files are kept.
# Usage: docker/make-secrets.sh [HOSTNAME]   (the certificate's name, default localhost)
set -euo pipefail
cd "$(dirname "$0")"
host=${1:-localhost}
umask 077
mkdir -p secrets
chmod 700 secrets

if [ ! -f secrets/db_password ]; then
    openssl rand -hex 24 >secrets/db_password
fi
password=$(cat secrets/db_password)
[ -f secrets/database_url ] || printf 'postgresql://receiver:%s@pgbouncer:6432/receiver\n' "$password" >secrets/database_url
[ -f secrets/pgbouncer_userlist ] || printf '"receiver" "%s"\n' "$password" >secrets/pgbouncer_userlist
[ -f secrets/database_url_ha ] \
    || printf 'postgresql://receiver:%s@patroni1:5432,patroni2:5432/receiver?target_session_attrs=read-write&connect_timeout=2\n' "$password" >secrets/database_url_ha
for name in patroni_superuser_password patroni_replication_password patroni_rewind_password; do
    [ -f "secrets/$name" ] || openssl rand -hex 24 >"secrets/$name"
done
[ -f secrets/admin_token ] || openssl rand -hex 24 >secrets/admin_token
if [ ! -f secrets/tls_cert ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
        -subj "/CN=$host" -addext "subjectAltName=DNS:$host" \
        -keyout secrets/tls_key -out secrets/tls_cert 2>/dev/null
fi
# Compose (without swarm) bind-mounts each file as it is, so the containers' users
# (receiver 10001, postgres 999, pgbouncer's postgres 101, Patroni's postgres 999) must be able to read it;
# on the host the directory (700) keeps other users out.
chmod 644 secrets/*
echo "docker/secrets: $(ls secrets | tr '\n' ' ')"
