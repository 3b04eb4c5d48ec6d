#!/bin/sh
# Patroni takes its passwords from the environment (PATRONI_*); compose hands them
# over as secret files. PATRONI_NAME and the addresses come from compose.
set -eu
PATRONI_SUPERUSER_PASSWORD=$(cat /run/secrets/patroni_superuser_password)
PATRONI_REPLICATION_PASSWORD=$(cat /run/secrets/patroni_replication_password)
PATRONI_REWIND_PASSWORD=$(cat /run/secrets/patroni_rewind_password)
export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD PATRONI_REWIND_PASSWORD
exec patroni /etc/patroni/receiver.yml
