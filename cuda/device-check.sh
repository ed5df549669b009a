#!/usr/bin/env bash
# The whole GPU check of the CUDA backend, in two halves.
#
#   cuda/device-check.sh prepare        here (needs JDK 17 + Maven): builds what a GPU machine needs into .device/
#                                        (the self-contained jar, the test jars, JUnit's console launcher, and a Java
#                                        runtime made with jlink, since the GPU machine may have no Java)
#   cuda/device-check.sh run [--bench] [OUTDIR]
#                                        there, from the repository root: rnn4j devices, every gpu-tagged test, and
#                                        train rnn|lstm --check in float64 and float32; logs and JUnit XML under OUTDIR
#                                        (default: $OUT when set, else .device/results); prints a table; exit 0 only
#                                        when every step passed. With --bench, then the GPU half of the benchmarks:
#                                        JMH on cpu and cuda (short timings; OUTDIR/bench/REPORT.md with charts and
#                                        device-over-host speedups) and, where python3 has PyTorch, the cuDNN
#                                        comparison (OUTDIR/torch.log). Budget several minutes for --bench, or
#                                        narrow it: BENCH_ARGS='-p size=512,1024 -p batchSize=256 ...'.
#
# Nothing here needs ../shared: the runtime is made with the JDK's own jlink.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dev="$root/.device"
junit_version=1.14.1

prepare() {
  cd "$root"
  echo "device-check: building (mvn package, tests skipped here)..."
  mvn -B -q -DskipTests package
  rm -rf "$dev/lib"
  mkdir -p "$dev/lib"
  cp cuda/target/rnn4j.jar "$dev/lib/rnn4j.jar"
  cp cuda/target/rnn4j-cuda-*-tests.jar "$dev/lib/rnn4j-cuda-tests.jar"
  cp java/target/rnn4j-core-*-tests.jar "$dev/lib/rnn4j-core-tests.jar"
  cp bench/target/benchmarks.jar "$dev/lib/benchmarks.jar"
  cp bench/scripts/torch_vs_rnn4j.py "$dev/torch_vs_rnn4j.py"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version -DoutputDirectory="$dev/lib"
  # jdk.zipfs: JUnit's console launcher reads the test jar through the zip file system.
  if [ ! -x "$dev/jre/bin/java" ] || ! "$dev/jre/bin/java" --list-modules | grep -q '^jdk.zipfs'; then
    rm -rf "$dev/jre"
    local jdk="${JDK17:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
    "$jdk/bin/jlink" --add-modules java.base,jdk.unsupported,java.management,java.logging,java.xml,java.desktop,jdk.management,jdk.zipfs \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$dev/jre"
  fi
  cp "$root/cuda/device-check.sh" "$dev/device-check.sh"
  git -C "$root" rev-parse HEAD > "$dev/commit" 2>/dev/null || echo unknown > "$dev/commit"
  du -sh "$dev/lib" "$dev/jre"
  echo "device-check: ready; carry .device and run: bash .device/device-check.sh run \"\$OUT\""
}

run_checks() {
  local bench=0
  if [ "${1:-}" = "--bench" ]; then bench=1; shift; fi
  local out="${1:-${OUT:-$dev/results}}"
  mkdir -p "$out"
  local java="$dev/jre/bin/java"
  [ -x "$java" ] || java="$(command -v java || true)"
  [ -n "$java" ] || { echo "device-check: no Java (run 'prepare' first)" >&2; exit 2; }
  local lib="$dev/lib"
  local table="$out/summary.txt"
  local failed=0
  : > "$table"
  {
    echo "rnn4j device check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cat "$dev/commit" 2>/dev/null || echo unknown)"
    echo "host: $(uname -n), $(nproc) cores; java: $("$java" -version 2>&1 | head -1)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' || true
  } | tee -a "$table"
  printf '%-28s %5s %8s  %s\n' step exit seconds result | tee -a "$table"

  step() { # name, log file, command...
    local name="$1" log="$2"
    shift 2
    local t0 t1 rc
    t0=$(date +%s.%N)
    set +e
    "$@" > "$out/$log" 2>&1
    rc=$?
    set -e
    t1=$(date +%s.%N)
    local result
    result="$( (grep -E '^result:|(tests|containers) (successful|failed|skipped|aborted)|^cuda |^rnn4j: ' "$out/$log" || true) \
      | tr -s ' ' | paste -sd ';' - | cut -c1-110)"
    [ "$rc" -eq 0 ] || failed=1
    printf '%-28s %5s %8.1f  %s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$result" | tee -a "$table"
  }

  step "devices" devices.log "$java" -jar "$lib/rnn4j.jar" devices
  step "gpu tests (JUnit)" gpu-tests.log "$java" -jar "$lib/junit-platform-console-standalone-$junit_version.jar" \
    execute --class-path "$lib/rnn4j.jar:$lib/rnn4j-cuda-tests.jar:$lib/rnn4j-core-tests.jar" \
    --scan-class-path "$lib/rnn4j-cuda-tests.jar" --include-tag gpu --fail-if-no-tests \
    --reports-dir "$out/junit" --details summary --disable-banner
  # Every gpu test must have run: a skipped one means CUDA was not usable.
  if grep -qE '[1-9][0-9]* (tests|containers) (skipped|aborted)' "$out/gpu-tests.log"; then
    echo "device-check: some gpu tests were skipped or aborted (see gpu-tests.log)" | tee -a "$table"
    failed=1
  fi
  for net in rnn lstm; do
    for p in float64 float32; do
      step "train $net --check $p" "check-$net-$p.log" "$java" -jar "$lib/rnn4j.jar" train "$net" --check --precision "$p"
    done
  done
  if [ "$bench" = 1 ]; then
    mkdir -p "$out/bench"
    # Short timings so the whole grid fits a lent machine's minutes; the command is recorded in the report.
    local jmh=("$java" -jar "$lib/benchmarks.jar" 'org.rnn4j.bench.*' -wi 2 -w 1s -i 3 -r 1s -f 1
               -p backend=cpu,cuda -p gemmPath=default,builtin -p graphs=false,true
               -rf json -rff "$out/bench/jmh.json")
    # BENCH_ARGS narrows the grid (JMH -p options); the whole grid took 529 s on a 2-core machine without a GPU.
    # shellcheck disable=SC2206
    jmh+=(${BENCH_ARGS:-})
    step "benchmarks (JMH)" bench-jmh.log "${jmh[@]}"
    step "benchmark report" bench-report.log "$java" -cp "$lib/benchmarks.jar" org.rnn4j.bench.Report \
      "$out/bench/jmh.json" "$out/bench" --command "bash .device/device-check.sh run --bench => ${jmh[*]#"$dev/"}"
    if python3 -c 'import torch' 2>/dev/null; then
      step "pytorch vs rnn4j (cuda)" torch.log env JAVA="$java" RNN4J_BENCH_JAR="$lib/benchmarks.jar" \
        python3 "$dev/torch_vs_rnn4j.py" --device cuda --sizes 512:64:100,128:1:16,1024:256:100
    else
      echo "pytorch vs rnn4j: skipped, python3 has no PyTorch here" | tee -a "$table"
    fi
  fi
  if [ "$failed" -eq 0 ]; then echo "device-check: PASS" | tee -a "$table"; else echo "device-check: FAIL" | tee -a "$table"; fi
  return "$failed"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run_checks "$@" ;;
  *) echo "usage: cuda/device-check.sh prepare | run [--bench] [OUTDIR]" >&2; exit 2 ;;
esac
