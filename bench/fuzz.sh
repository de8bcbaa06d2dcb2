#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer): builds the targets of fuzz/ with -sanitize=fuzzer,address and runs each
# for SECONDS from its seed corpus (fuzz/seeds/TARGET, made of the fixtures and past findings). A crash or a
# hang fails the run and leaves its input in fuzz/findings/; fix it and add the input to the seeds.
# Usage: bench/fuzz.sh [SECONDS] [TARGET ...]   (default 60 s, every target)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzWebhookPayload FuzzSignatureHeader FuzzQueryString FuzzIPAnonymizer FuzzTimeAndMoney FuzzConfig)
scratch=$PWD/.build-fuzz
# gold, the default linker, fails on the sanitizer's runtime; lld ships with the toolchain.
toolset=$(mktemp)
echo "{\"schemaVersion\":\"1.0\",\"linker\":{\"path\":\"$(dirname "$(command -v swift)")/ld.lld\"}}" > "$toolset"
swift build --package-path fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address --toolset "$toolset" 2>&1 \
  | grep -E "error:|Build" | tail -3
rm -f "$toolset"
bin="$scratch/debug"
mkdir -p fuzz/findings
status=0
for target in "${targets[@]}"; do
  corpus=$(mktemp -d)
  cp fuzz/seeds/"$target"/* "$corpus"/
  log=$(mktemp)
  "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="fuzz/findings/$target-" >"$log" 2>&1
  code=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cover=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $code -eq 0 ]; then
    printf '%-22s %10s runs  %7s exec/s  %s  corpus %s\n' "$target" "$runs" "$speed" "$cover" "$(ls "$corpus" | wc -l)"
  else
    status=1
    echo "$target FAILED (exit $code):"
    grep -E "ERROR|Fatal|SUMMARY|artifact" "$log" | head -5
  fi
  rm -rf "$corpus" "$log"
done
exit $status
