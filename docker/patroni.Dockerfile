# PostgreSQL 15 under Patroni from Debian 12 (3.0.2), and etcd (3.4), as
# scripts/patroni-topology.sh runs them in the tests; the `ha` profile of
# docker/compose.yaml runs two Patroni nodes and one etcd from this image.
#   docker build -f docker/patroni.Dockerfile -t connector-receiver-patroni docker
FROM postgres:15-bookworm
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends patroni python3-etcd etcd-server \
 && rm -rf /var/lib/apt/lists/*
COPY patroni.yml /etc/patroni/receiver.yml
COPY patroni-entrypoint.sh patroni-post-bootstrap.sh /usr/local/bin/
# Named volumes start with these directories' owner.
RUN mkdir -p /var/lib/postgresql/patroni /var/lib/postgresql/etcd \
 && chown postgres: /var/lib/postgresql/patroni /var/lib/postgresql/etcd
USER postgres
EXPOSE 5432 8008 2379
ENTRYPOINT ["/usr/local/bin/patroni-entrypoint.sh"]
