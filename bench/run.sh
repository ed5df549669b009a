#!/usr/bin/env bash
# Runs rnn4j's JMH benchmarks on every usable backend, then writes the report (REPORT.md, charts, jmh.json).
#
#   bench/run.sh [--smoke] [--out DIR] [-- EXTRA_JMH_ARGS...]
#
# Full run: 3 x 1 s warmup, 5 x 1 s measurement, 1 fork, the benchmarks' whole parameter grid; results in
# bench/results/ (to be committed). --smoke: tiny parameters and times, a check that everything works, not a
# measurement; results in bench/target/smoke-results/ (ignored by git). Arguments after -- go to JMH as they are
# (for example -- -p hidden=16,128 to narrow the grid; they are recorded in the report's command).
# Builds bench/target/benchmarks.jar first when it is missing or older than the sources. JAVA_OPTS goes to the JVMs
# that list the backends and write the report, not to JMH's forks (use -- -jvmArgsAppend ... for those).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/bench/target/benchmarks.jar"

smoke=0
out=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) [ $# -ge 2 ] || { echo "run.sh: --out needs a directory" >&2; exit 2; }; out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  if [ "$smoke" = 1 ]; then out="$root/bench/target/smoke-results"; else out="$root/bench/results"; fi
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

stale() {
  [ ! -f "$jar" ] && return 0
  [ -n "$(find "$root/pom.xml" "$root"/{java,cuda,native-kernels,bench}/pom.xml \
      "$root"/{java,cuda,native-kernels,bench}/src/main -newer "$jar" -print -quit 2>/dev/null)" ]
}
if stale; then
  echo "run.sh: building $jar (mvn package -pl bench -am)..." >&2
  log="$(mktemp)"
  if ! (cd "$root" && mvn -B -q -DskipTests package -pl bench -am) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "run.sh: the build failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# shellcheck disable=SC2086
backends="$(java ${JAVA_OPTS:-} -cp "$jar" org.rnn4j.bench.BenchBackends)"
paths="default"
case ",$backends," in
  *,cuda,*) paths="default,builtin"; extra+=(-p graphs=false,true) ;;  # both are CUDA-only distinctions
esac
echo "run.sh: usable backends: $backends (GEMM paths: $paths)" >&2
java ${JAVA_OPTS:-} -cp "$jar" org.rnn4j.bench.BenchBackends --explain | sed 's/^/run.sh:   /' >&2

if [ "$smoke" = 1 ]; then
  timing=(-wi 1 -w 200ms -i 1 -r 200ms -f 1 -p hidden=16 -p batch=1,64 -p shape=128,lstm -p precision=float32
          -p size=16 -p batchSize=1,4 -p steps=4)
else
  timing=(-wi 3 -w 1s -i 5 -r 1s -f 1)
  case ",$backends," in
    *,cuda,*) ;;
    # Without a GPU the LSTM grid's large end (X = H = 1024, B = 256, T = 100: about 1e12 flops an iteration) would
    # take hours on a few cores: measure its small end only. With a GPU the whole grid runs, CPU included, for the
    # device-over-host ratios.
    *) timing+=(-p size=128,512 -p batchSize=1,32 -p steps=16) ;;
  esac
fi
# JMH starts each fork from the jar: run from a private copy, so that a rebuild during the run cannot change it.
rundir="$(mktemp -d)"
trap 'rm -rf "$rundir"' EXIT
cp "$jar" "$rundir/benchmarks.jar"
cmd=(java -jar "$rundir/benchmarks.jar" 'org.rnn4j.bench.*' "${timing[@]}" -p "backend=$backends" -p "gemmPath=$paths"
     -rf json -rff "$out/jmh.json" "${extra[@]}")
# The command as recorded in the report: paths relative to the repository root where they lie inside it.
quote() {  # an argument as a shell would need it: bare when safe, else in single quotes
  if [[ "$1" =~ ^[A-Za-z0-9_./=,:@%+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
shown=""
for a in "${cmd[@]}"; do
  [ "$a" = "$rundir/benchmarks.jar" ] && a="$jar"
  shown+="$(quote "${a#"$root"/}") "
done
mode=""
[ "$smoke" = 1 ] && mode=" --smoke"
shown="bash bench/run.sh$mode => ${shown% }"
echo "run.sh: $shown" >&2
start=$(date +%s)
"${cmd[@]}"
echo "run.sh: JMH took $(( $(date +%s) - start )) s" >&2

# shellcheck disable=SC2086
(cd "$root" && java ${JAVA_OPTS:-} -cp "$rundir/benchmarks.jar" org.rnn4j.bench.Report "$out/jmh.json" "$out" --command "$shown")
