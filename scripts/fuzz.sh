#!/usr/bin/env bash
# Fuzzes the HTTP/1.1 request parser with libFuzzer (and AddressSanitizer): builds the
# RequestParserFuzzer target with -sanitize=fuzzer into .build-fuzz, then runs it from the
# committed seed corpus for the given time. Besides crashes, the target checks the parser's
# invariants (same events whatever the byte split, consumed counts within the input, final
# errors, well-formed requests) and stops on the first violation.
# Usage: scripts/fuzz.sh [seconds, default 120] [extra libFuzzer flags...]
# Exits non-zero when libFuzzer finds a crash, a leak, a timeout or an out-of-memory; the input
# is kept under .build-fuzz/artifacts/ (replay: .build-fuzz/release/RequestParserFuzzer FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-120}
shift || true
scratch=.build-fuzz
# `--sanitize fuzzer` makes SwiftPM link libFuzzer's main; the -sanitize= option after
# it names both sanitizers in one (SwiftPM's `--sanitize fuzzer --sanitize address`
# emits two options in an order that varies from run to run, and the last one wins).
sanitizers=fuzzer,address
[ "${FUZZ_ASAN:-1}" = 0 ] && sanitizers=fuzzer

echo "fuzz: building RequestParserFuzzer (-sanitize=$sanitizers) in $scratch"
swift build -c release --product RequestParserFuzzer --scratch-path "$scratch" --sanitize fuzzer \
    -Xswiftc "-sanitize=$sanitizers" -Xswiftc -DFUZZING -Xswiftc -enable-testing
symbols=$(nm "$scratch/release/RequestParserFuzzer")
for symbol in __sanitizer_cov_8bit_counters_init $([ "$sanitizers" = fuzzer ] || echo __asan_init); do
    grep -q "$symbol" <<<"$symbols" || { echo "fuzz: the build lacks $symbol: not instrumented" >&2; exit 1; }
done

corpus="$scratch/corpus/request-parser"
artifacts="$scratch/artifacts/"
mkdir -p "$corpus" "$artifacts"
echo "fuzz: running for ${seconds}s (new inputs in $corpus, crashes in $artifacts)"
# The first corpus directory receives new inputs; the committed seeds stay as they are.
# Swift's own backtracer reads memory AddressSanitizer forbids; libFuzzer reports instead.
export SWIFT_BACKTRACE=enable=no
"$scratch/release/RequestParserFuzzer" "$corpus" Fuzz/corpus/request-parser \
    -dict=Fuzz/request-parser.dict \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$artifacts" -print_final_stats=1 "$@"
