# The README's commands. Each installs the system packages it needs first.
.PHONY: run test build release migrate bench fuzz soak clean java java-jar

# Run the server on its embedded default PostgreSQL (under .data/; as root under a home
# the postgres user cannot enter, the cluster's files go to /var/lib/connector-receiver,
# linked from .data/pgdata). Once it listens it prints the next three steps.
run: release
	.build/release/connector-receiver serve $(ARGS)

# Build, start a throwaway PostgreSQL, run every test, stop it.
test:
	scripts/test.sh

build:
	scripts/bootstrap.sh run
	swift build

release:
	scripts/bootstrap.sh run
	swift build -c release

migrate: release
	.build/release/connector-receiver migrate $(ARGS)

# nginx, pgbench and connector-receiver side by side under wrk, on loopback; prints a table.
bench: release
	scripts/bootstrap.sh bench
	bench/run.py $(ARGS)

# The benchmark at real data shapes (bench/scale.py, about 6 minutes, at most 10): one client
# of 200,000 prospects loaded through the API; saves with 0 and 20,000 open sync errors, list
# pages by club, reads against pgbench, a new client's and a fresh database's first 30 s.
.PHONY: bench-scale
bench-scale: release
	scripts/bootstrap.sh bench
	bench/scale.py $(ARGS)

# libFuzzer over the HTTP/1.1 request parser, with AddressSanitizer; fails on a crash or a
# broken invariant. `make fuzz FUZZ_SECONDS=600` runs longer (default 120).
fuzz:
	scripts/bootstrap.sh run
	scripts/fuzz.sh $(or $(FUZZ_SECONDS),120)

# A release build on a throwaway PostgreSQL at a fixed request rate for MINUTES (default 10),
# then overloaded for 30 s and watched while it recovers; prints the tables, fails on drift.
MINUTES ?= 10
soak:
	scripts/soak.sh $(MINUTES)

# The Java library: its jar (clients/java/build/), then its tests against the real server on a
# throwaway PostgreSQL (make test runs them too). `make java-jar` builds the jar alone.
java: build
	scripts/bootstrap.sh test
	scripts/java-test.sh

java-jar:
	scripts/bootstrap.sh java
	scripts/java-test.sh --build-only

clean:
	rm -rf .build .build-fuzz clients/java/build
