# PostgreSQL 15 under Patroni from Debian 12 (3.0.2), as scripts/patroni-topology.sh
# runs it in the tests; the `ha` profile of docker/compose.yaml runs two of these.
#   docker build -f docker/patroni.Dockerfile -t connector-receiver-patroni docker
FROM postgres:15-bookworm
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends patroni python3-etcd \
 && rm -rf /var/lib/apt/lists/*
COPY patroni.yml /etc/patroni/receiver.yml
COPY patroni-entrypoint.sh patroni-post-bootstrap.sh /usr/local/bin/
RUN mkdir -p /var/lib/postgresql/patroni && chown postgres: /var/lib/postgresql/patroni
USER postgres
EXPOSE 5432 8008
ENTRYPOINT ["/usr/local/bin/patroni-entrypoint.sh"]
