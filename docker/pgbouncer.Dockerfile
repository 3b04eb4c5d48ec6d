# PgBouncer from Debian 12 (1.18), as scripts/topology.sh runs it in the tests.
#   docker build -f docker/pgbouncer.Dockerfile -t connector-receiver-pgbouncer docker
FROM debian:bookworm-slim
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends pgbouncer \
 && rm -rf /var/lib/apt/lists/*
COPY pgbouncer.ini /etc/pgbouncer/pgbouncer.ini
# PgBouncer refuses to run as root; the Debian package's user.
USER postgres
EXPOSE 6432
CMD ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
