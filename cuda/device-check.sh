#!/usr/bin/env bash
# The GPU check of the CUDA backend, made here and run on a lent GPU machine (which may have no Java and no Maven,
# takes at most 64 MiB of files with the repository, gives back at most 8 files, and lends about 15 minutes).
#
#   cuda/device-check.sh prepare [--bench]
#       here (JDK 17 + Maven): builds what the GPU machine needs into .device/: the launcher jar, the test jars,
#       JUnit's console launcher and a Java runtime made with jlink (libjvm.so stripped); with --bench also the
#       benchmarks jar (without its chart libraries: charts are made back here) and the PyTorch scripts. Fails when
#       .device/ comes out larger than 56 MiB.
#   bash .device/device-check.sh run [--bench [quick|full|smoke]] [--dry-run] [OUTDIR]
#       there, from the repository root. The check: rnn4j devices, then every gpu-tagged test (they include the
#       four train rnn|lstm --check runs, float64 and float32); the cublas-tagged tests are left out where cuBLAS
#       cannot load, and the summary says which GEMM path ran. With --bench (quick, the default preset) then the
#       benchmark targets, each step under its own timeout: rnn4j kernels --validate --bench --quick (each kernel
#       family against the CPU, then against the device's bandwidth and peak); graphs at B = 1, H = 128; the cuDNN
#       comparison at
#       H = X = 512, B = 64, T = 100; device over host at H = 1024, B = 256; GEMM at 1024 and 4096 on every GEMM
#       path, with PyTorch's torch.matmul as the peer. `full` is the whole JMH grid (a long run, hours with the CPU
#       half; not for a lent machine); `smoke` is the quick preset's steps at tiny sizes on whatever backends are
#       usable, to try the pipeline without a GPU. The whole run stops starting steps once its budget is spent
#       (DEVICE_CHECK_BUDGET seconds; default 180, with --bench 360) and cuts each step to what is left.
#       OUTDIR (default $OUT when set, else target/device-check) receives two files only: summary.txt and
#       device-check-results.tar.gz (every log, the JUnit XML, the JMH JSON, environment.txt). --dry-run prints each
#       step's command and timeout and runs nothing. Exit 0 only when every step passed.
#   cuda/device-check.sh report RESULTS.tar.gz [DIR]
#       here: unpacks the results (into DIR, default RESULTS without .tar.gz) and writes bench/REPORT.md with the
#       charts from the recorded JMH JSON, describing the GPU machine as recorded there.
#
# The default GEMM path, as everywhere: cuBLAS when JCublas's libcublas.so.12 loads, else the built-in kernel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # from cuda/ here, from .device/ there

# ---- paths, in one place (relative to the repository root) -------------------------------------------------------
launcher_jar="java/cli/target/rnn4j.jar"                  # the self-contained launcher
cuda_tests_jar="cuda/target/rnn4j-cuda-*-tests.jar"   # globs: the version varies
core_tests_jar="java/core/target/rnn4j-core-*-tests.jar"
cli_tests_jar="java/cli/target/rnn4j-cli-*-tests.jar"
bench_jar="bench/target/benchmarks.jar"
bench_scripts=(bench/scripts/torch_vs_rnn4j.py bench/scripts/torch_matmul.py)
dev="$root/.device"                                   # what travels to the GPU machine
default_out="$root/target/device-check"
work="$root/target/device-check-work"                 # the unpacked results, tarred into OUTDIR
junit_version=1.14.1
max_carry_mib=56
# jlink modules: jdk.zipfs for JUnit's console launcher; no java.desktop (charts are made here, not there).
jre_modules="java.base,jdk.unsupported,java.management,java.logging,java.xml,jdk.management,jdk.zipfs"

# log_result LOG: the lines of a step's log that say how it went, joined into one line of at most 120 characters
# (empty when none does). Never fails (|| true: head closing the pipe early is no failure either): under pipefail,
# a log without such a line (grep -v then selects nothing)
# used to end the whole run after a step that had passed (the PyTorch comparison's table, whose rows end with the
# per-round ratios). Also `device-check.sh log-result LOG`, for the tests.
log_result() {
  (grep -E '^result:|(tests|containers) +(successful|failed|skipped|aborted)|^cuda |^rnn4j: |^validation: |median_s=|[0-9]x( |$)|^# Run complete|Exception' "$1" || true) \
    | (grep -vE ' 0 (tests|containers)' || true) | tr -s ' ' | head -8 | paste -sd ';' - | cut -c1-120 || true
}

usage() {
  echo "usage: cuda/device-check.sh prepare [--bench] | run [--bench [quick|full|smoke]] [--dry-run] [OUTDIR]" \
       "| report RESULTS.tar.gz [DIR]" >&2
  exit 2
}

# ---- prepare -----------------------------------------------------------------------------------------------------
prepare() {
  local bench=0
  for a in "$@"; do
    case "$a" in
      --bench) bench=1 ;;
      *) echo "device-check: prepare: unknown argument '$a'" >&2; usage ;;
    esac
  done
  cd "$root"
  echo "device-check: building (mvn package, tests skipped here)..."
  mvn -B -q -DskipTests package
  rm -rf "$dev/lib" "$dev/scripts" "$dev/results" "$dev/torch_vs_rnn4j.py"
  mkdir -p "$dev/lib"
  one() { local f; f=$(ls $1 2>/dev/null | grep -v -- '-sources' | head -1); [ -n "$f" ] || { echo "device-check: $1 not built" >&2; exit 1; }; echo "$f"; }
  cp "$(one "$launcher_jar")" "$dev/lib/rnn4j.jar"
  # OpenBLAS's natives (12 MB compressed in each jar) do not fit the 56 MiB: the CPU GEMM there is the Java one
  # (run sets RNN4J_CPU_GEMM=java), so CPU figures from the GPU machine are the Java GEMM's, not OpenBLAS's.
  local no_openblas='org/bytedeco/openblas/linux-x86_64/*'
  if command -v zip > /dev/null; then
    zip -q -d "$dev/lib/rnn4j.jar" "$no_openblas" > /dev/null
  fi
  cp "$(one "$cuda_tests_jar")" "$dev/lib/rnn4j-cuda-tests.jar"
  cp "$(one "$core_tests_jar")" "$dev/lib/rnn4j-core-tests.jar"
  cp "$(one "$cli_tests_jar")" "$dev/lib/rnn4j-cli-tests.jar"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version -DoutputDirectory="$dev/lib"
  if [ "$bench" = 1 ]; then
    # The chart libraries (XChart, PDFBox, ...) are a third of the jar and are used only by Report, which runs here.
    cp "$(one "$bench_jar")" "$dev/lib/benchmarks.jar"
    local drop=("$no_openblas" 'org/apache/pdfbox/*' 'org/apache/fontbox/*' 'de/*' 'org/knowm/*' 'org/apache/commons/logging/*'
                'assets/*' 'META-INF/maven/org.apache.pdfbox/*')
    if command -v zip > /dev/null; then
      zip -q -d "$dev/lib/benchmarks.jar" "${drop[@]}" > /dev/null
    else
      echo "device-check: no zip here: the benchmarks jar travels whole" >&2
    fi
    mkdir -p "$dev/scripts"
    cp "${bench_scripts[@]}" "$dev/scripts/"
  fi
  if [ ! -x "$dev/jre/bin/java" ] || [ "$(cat "$dev/jre/rnn4j-modules" 2>/dev/null)" != "$jre_modules" ]; then
    rm -rf "$dev/jre"
    local jdk="${JDK17:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
    "$jdk/bin/jlink" --add-modules "$jre_modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
      --output "$dev/jre"
    # The JDK's libjvm.so keeps its symbol table (4 of its 24 MB); the runtime needs only the dynamic symbols.
    if command -v strip > /dev/null; then
      chmod u+w "$dev/jre/lib/server/libjvm.so"
      strip --strip-unneeded "$dev/jre/lib/server/libjvm.so"
    else
      echo "device-check: no strip here: libjvm.so travels unstripped" >&2
    fi
    "$dev/jre/bin/java" -version > /dev/null 2>&1 || { echo "device-check: the jlink runtime does not start" >&2; exit 1; }
    echo "$jre_modules" > "$dev/jre/rnn4j-modules"
  fi
  cp "$root/cuda/device-check.sh" "$dev/device-check.sh"
  git -C "$root" rev-parse HEAD > "$dev/commit" 2>/dev/null || echo unknown > "$dev/commit"
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    sed -i 's/$/ (with uncommitted changes)/' "$dev/commit"
  fi
  local bytes limit
  bytes=$(du -sb "$dev" | cut -f1)
  limit=$((max_carry_mib * 1024 * 1024))
  du -sh "$dev/lib" "$dev/jre"
  printf 'device-check: .device/ is %.1f MiB (limit %d MiB)\n' "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" \
    "$max_carry_mib"
  if [ "$bytes" -gt "$limit" ]; then
    echo "device-check: .device/ is larger than $max_carry_mib MiB; the GPU machine takes at most 64 MiB with the" \
         "repository: leave something out" >&2
    exit 1
  fi
  echo "device-check: ready; carry .device and run: bash .device/device-check.sh run$([ "$bench" = 1 ] && echo ' --bench')"
}

# ---- run ---------------------------------------------------------------------------------------------------------
run_checks() {
  local bench="" dry=0 out=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --bench)
        bench=quick
        case "${2:-}" in quick|full|smoke) bench="$2"; shift ;; esac ;;
      --bench=*) bench="${1#--bench=}"
        case "$bench" in quick|full|smoke) ;; *) echo "device-check: --bench takes quick, full or smoke" >&2; usage ;; esac ;;
      --dry-run) dry=1 ;;
      -*) echo "device-check: run: unknown option '$1'" >&2; usage ;;
      *) [ -z "$out" ] || { echo "device-check: run: one OUTDIR only" >&2; usage; }; out="$1" ;;
    esac
    shift
  done
  out="${out:-${OUT:-$default_out}}"
  export RNN4J_CPU_GEMM="${RNN4J_CPU_GEMM:-java}"   # prepare left OpenBLAS's natives out (size)
  local lib="$dev/lib" java="$dev/jre/bin/java"
  [ -x "$java" ] || java="$(command -v java || true)"
  if [ "$dry" = 0 ]; then
    [ -n "$java" ] || { echo "device-check: no Java (run 'cuda/device-check.sh prepare' first)" >&2; exit 2; }
    [ -f "$lib/rnn4j.jar" ] || { echo "device-check: $lib/rnn4j.jar missing (run 'prepare' first)" >&2; exit 2; }
    if [ -n "$bench" ] && [ ! -f "$lib/benchmarks.jar" ]; then
      echo "device-check: --bench needs the benchmarks jar: run 'cuda/device-check.sh prepare --bench' first" >&2
      exit 2
    fi
  fi
  local budget="${DEVICE_CHECK_BUDGET:-}"
  if [ -z "$budget" ]; then
    case "$bench" in "") budget=180 ;; full) budget=36000 ;; *) budget=360 ;; esac
  fi
  [[ "$budget" =~ ^[1-9][0-9]*$ ]] || { echo "device-check: DEVICE_CHECK_BUDGET must be a number of seconds" >&2; exit 2; }
  local python="${PYTHON:-python3}"
  local standin="${DEVICE_CHECK_STANDIN:-}"
  [ -z "$standin" ] || [ "$standin" = cpu ] || { echo "device-check: DEVICE_CHECK_STANDIN takes cpu" >&2; exit 2; }

  local start deadline failed=0
  start=$(date +%s)
  deadline=$((start + budget))
  if [ "$dry" = 0 ]; then
    mkdir -p "$out"
    rm -rf "$work"
    mkdir -p "$work/bench"
  fi
  local table="$work/summary.txt"
  say() { if [ "$dry" = 1 ]; then echo "$*"; else echo "$*" | tee -a "$table"; fi; }
  local have_timeout=1
  command -v timeout > /dev/null || have_timeout=0

  # step NAME CAP LOG COMMAND...: runs COMMAND with its output in LOG, under min(CAP, what is left of the budget).
  step() {
    local name="$1" cap="$2" log="$3"
    shift 3
    local now left limit
    now=$(date +%s)
    left=$((deadline - now))
    limit=$((cap < left ? cap : left))
    if [ "$dry" = 1 ]; then
      printf '%-30s timeout %4ss  log %-24s %s\n' "$name" "$cap" "$log" "$(printf '%q ' "$@")"
      return 0
    fi
    if [ "$limit" -lt 5 ]; then
      printf '%-30s %5s %8s  %s\n' "$name" - - "not run: the budget of ${budget}s is spent" | tee -a "$table"
      failed=1
      return 0
    fi
    mkdir -p "$(dirname "$work/$log")"
    local t0 t1 rc
    t0=$(date +%s.%N)
    set +e
    if [ "$have_timeout" = 1 ]; then
      timeout -k 10 "$limit" "$@" > "$work/$log" 2>&1
    else
      "$@" > "$work/$log" 2>&1
    fi
    rc=$?
    set -e
    t1=$(date +%s.%N)
    local result
    result="$(log_result "$work/$log")"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      result="TIMED OUT after ${limit}s; $result"
    elif [ "$rc" -eq 0 ] && grep -q '<failure>' "$work/$log"; then
      rc=1  # JMH with -foe false goes on after a failed benchmark and exits 0
      result="a benchmark failed (see $log); $result"
    fi
    [ "$rc" -eq 0 ] || failed=1
    printf '%-30s %5s %8.1f  %s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$result" \
      | tee -a "$table"
  }

  if [ "$dry" = 0 ]; then
    : > "$table"
    {
      echo "rnn4j device check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cat "$dev/commit" 2>/dev/null || echo unknown)"
      echo "host: $(uname -n), $(nproc) cores; java: $("$java" -version 2>&1 | head -1)"
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' || true
      echo "budget: ${budget}s; bench: ${bench:-no}${standin:+; STAND-IN: the gpu tests are replaced by their CPU counterparts}"
    } | tee -a "$table"
    printf '%-30s %5s %8s  %s\n' step exit seconds result | tee -a "$table"
  else
    echo "device-check: dry run; budget ${budget}s; each step runs under min(its timeout, what is left)"
  fi

  step "devices" 45 devices.log "$java" -jar "$lib/rnn4j.jar" devices
  local gemm_line="" native_line="" cuda_line=""
  if [ "$dry" = 0 ]; then
    cuda_line="$(grep -m1 '^cuda ' "$work/devices.log" || true)"
    gemm_line="$(grep -m1 -o 'GEMM: .*' "$work/devices.log" || true)"
    native_line="$(grep -m1 -i 'native librar' "$work/devices.log" | sed 's/^ *//' || true)"
  fi
  # Leave the cuBLAS cases out where cuBLAS cannot load: they would abort, and an aborted test counts as a failure.
  local tags=(--include-tag gpu)
  local cublas=0
  case "$gemm_line" in "GEMM: cuBLAS"*) cublas=1 ;; *) tags+=(--exclude-tag cublas) ;; esac
  local classpath="$lib/rnn4j.jar:$lib/rnn4j-cuda-tests.jar:$lib/rnn4j-cli-tests.jar:$lib/rnn4j-core-tests.jar"
  local junit=("$java" -jar "$lib/junit-platform-console-standalone-$junit_version.jar" execute --class-path "$classpath"
               --reports-dir "$work/junit" --details summary --disable-banner)
  if [ "$standin" = cpu ]; then
    # The nearest CPU work: the core's counterparts of the gpu tests (the same oracle traces, fixtures and ops).
    step "gpu tests (CPU STAND-IN)" 170 gpu-tests.log "${junit[@]}" --select-class org.rnn4j.train.OracleTraceTest \
      --select-class org.rnn4j.net.LstmLayerTorchTest --select-class org.rnn4j.backend.cpu.CpuBackendOpsTest \
      --select-class org.rnn4j.cli.ParityRunTest --fail-if-no-tests
  else
    step "gpu tests (JUnit)" 170 gpu-tests.log "${junit[@]}" --scan-class-path "$lib/rnn4j-cuda-tests.jar:$lib/rnn4j-cli-tests.jar" "${tags[@]}" \
      --fail-if-no-tests
  fi
  if [ "$dry" = 0 ]; then
    # Every gpu test that was selected must have run: a skipped one means CUDA was not usable.
    if grep -qE '[1-9][0-9]* +(tests|containers) +(skipped|aborted)' "$work/gpu-tests.log"; then
      say "device-check: some gpu tests were skipped or aborted (see gpu-tests.log)"
      failed=1
    fi
    # The --check runs happen inside the gpu tests (CudaTrainingTest.checkPasses): their verdicts, as printed.
    grep -E '^parity check|^result:' "$work/gpu-tests.log" | paste -d ' ' - - | sed 's/^/  /' | tee -a "$table" || true
  fi

  if [ -n "$bench" ]; then
    run_bench
  fi

  if [ "$dry" = 1 ]; then
    return 0
  fi
  {
    echo "cuda: $(echo "${cuda_line:-cuda not listed by rnn4j devices}" | sed 's/^cuda *//')"
    if [ "$cublas" = 1 ]; then
      echo "GEMM path: ${gemm_line#GEMM: } (the cublas-tagged tests ran)"
    elif [ -n "$gemm_line" ]; then
      echo "GEMM path: ${gemm_line#GEMM: } (the cublas-tagged tests were left out)"
    else
      echo "GEMM path: none (CUDA not usable; the cublas-tagged tests were left out)"
    fi
    local native_dir="${RNN4J_NATIVE_DIR:-${XDG_CACHE_HOME:-${HOME:-~}/.cache}/rnn4j/native}"
    [ -n "$native_line" ] || native_line="not named by rnn4j devices; the private directory for them is $native_dir"
    echo "native libraries: $native_line"
    echo "took $(($(date +%s) - start)) s of a budget of ${budget} s"
  } | tee -a "$table"
  environment > "$work/environment.txt"
  local verdict=PASS
  [ "$failed" -eq 0 ] || verdict=FAIL
  case "$cuda_line" in
    "cuda  usable"*) ;;
    *) [ "$failed" -eq 0 ] || verdict="FAIL (CUDA is not usable here: $(echo "${cuda_line:-not listed}" | sed 's/^cuda *not usable: //'))" ;;
  esac
  [ -z "$standin" ] || verdict="$verdict (STAND-IN: no GPU step ran; not a result)"
  echo "device-check: $verdict" | tee -a "$table"
  cp "$table" "$out/summary.txt"
  tar -czf "$out/device-check-results.tar.gz" -C "$work" .
  echo "device-check: wrote $out/summary.txt and $out/device-check-results.tar.gz" \
       "(charts: cuda/device-check.sh report device-check-results.tar.gz, back on a build machine)"
  return "$failed"
}

# The machine, as Report's --environment reads it (key=value lines), so the report made elsewhere describes it.
environment() {
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(cat "$dev/commit" 2>/dev/null || echo unknown)"
  echo "machine=CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $(nproc) logical cores"
  echo "machine=Memory: $(grep -m1 MemTotal /proc/meminfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "machine=OS: $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -s) ($(uname -r))"
  echo "machine=JVM: $("$java" -version 2>&1 | sed -n 2p)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/machine=GPU: /' || true
  echo "machine=Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  if grep -q '^cuda  usable' "$work/devices.log" 2>/dev/null; then echo "gpu.usable=true"; else echo "gpu.usable=false"; fi
  echo "gpu.reason=$(grep -m1 '^cuda ' "$work/devices.log" 2>/dev/null | sed 's/^cuda *[a-z ]*: //')"
  sed -n '/^cuda /,/^[a-z]/{/^      /p}' "$work/devices.log" 2>/dev/null | sed 's/^ */gpu.detail=/'
}

# The benchmark steps (called from run_checks; shares its variables).
run_bench() {
  local backends=cuda paths=builtin device=cuda
  [ "$cublas" = 1 ] && paths=default,builtin   # default = cuBLAS here
  local jmh=("$java" -jar "$lib/benchmarks.jar")
  local t=(-foe false -f 1 -wi 1 -w 1s -i 3 -r 1s)
  local cmds="$work/bench/commands.txt"
  if [ "$bench" = full ]; then
    [ "$cublas" = 1 ] || paths=builtin
    step "bench: kernels validate+bench" 600 bench/kernels.log "$java" -jar "$lib/rnn4j.jar" kernels --validate --bench
    step "bench: JMH, whole grid" "$budget" bench/jmh-full.log "${jmh[@]}" 'org.rnn4j.bench.*' -foe false -wi 3 -w 1s \
      -i 5 -r 1s -f 1 -p backend=cpu,cuda -p gemmPath="$paths" -p graphs=false,true \
      -rf json -rff "$work/bench/jmh-full.json"
    step "bench: cuDNN vs rnn4j" 1800 bench/torch-lstm.log env JAVA="$java" RNN4J_BENCH_JAR="$lib/benchmarks.jar" \
      "$python" "$dev/scripts/torch_vs_rnn4j.py" --device cuda --sizes 512:64:100,128:1:16,1024:256:100
    step "bench: torch.matmul peer" 600 bench/torch-matmul.log "$python" "$dev/scripts/torch_matmul.py" \
      --device cuda --sizes 128,256,512,1024,4096
    return 0
  fi
  local rnn=(-p hidden=128 -p batch=1) lstm=(-p size=1024 -p batchSize=256 -p steps=100)
  local cudnn=512:64:100 gemm=1024,4096 host=cpu,cuda
  if [ "$bench" = smoke ]; then
    # The same steps at tiny sizes, on what is usable here: a check of the pipeline, not a measurement.
    if ! grep -q '^cuda  usable' "$work/devices.log" 2>/dev/null && [ "$dry" = 0 ]; then
      backends=cpu; paths=default; device=cpu; host=cpu
    fi
    t=(-foe false -f 1 -wi 1 -w 200ms -i 1 -r 200ms)
    rnn=(-p hidden=16 -p batch=1)
    lstm=(-p size=32 -p batchSize=4 -p steps=4)
    cudnn=32:4:4
    gemm=64,128
  fi
  # Priority order: a step cut by the budget loses the least.
  # The kernel families, validated against the CPU and then timed against the device's own limits (its memory
  # bandwidth, its float32/float64 peak): issue 12's bandwidth and GEMM targets. Without a GPU (smoke) the command
  # must exit 2 with the reason.
  local kernels=("$java" -jar "$lib/rnn4j.jar" kernels --validate --bench --quick)
  if [ "$device" = cpu ]; then
    step "bench: kernels (no GPU: exit 2)" 30 bench/kernels.log bash -c '"$@"; test $? -eq 2' kernels "${kernels[@]}"
  else
    step "bench: kernels validate+bench" 75 bench/kernels.log "${kernels[@]}"
  fi
  step "bench: graphs B=1 H=128" 60 bench/jmh-graphs.log "${jmh[@]}" 'RnnTrainingBench' "${t[@]}" "${rnn[@]}" \
    -p backend="$backends" -p precision=float32 -p graphs=false,true -rf json -rff "$work/bench/jmh-graphs.json"
  step "bench: cuDNN vs rnn4j" 90 bench/torch-lstm.log env JAVA="$java" RNN4J_BENCH_JAR="$lib/benchmarks.jar" \
    "$python" "$dev/scripts/torch_vs_rnn4j.py" --device "$device" --repeats 5 --sizes "$cudnn"
  step "bench: device/host H=1024" 120 bench/jmh-host.log "${jmh[@]}" 'LstmTrainingBench' -foe false -f 1 -wi 1 \
    -w 1s -i 2 -r 1s "${lstm[@]}" -p backend="$host" -p precision=float32 -rf json -rff "$work/bench/jmh-host.json"
  step "bench: GEMM 1024,4096" 90 bench/jmh-gemm.log "${jmh[@]}" 'GemmBench' "${t[@]}" -p shape="$gemm" \
    -p precision=float32,float64 -p backend="$backends" -p gemmPath="$paths" -rf json -rff "$work/bench/jmh-gemm.json"
  step "bench: torch.matmul peer" 60 bench/torch-matmul.log "$python" "$dev/scripts/torch_matmul.py" \
    --device "$device" --sizes "$gemm" --repeats 20
  if [ "$dry" = 0 ]; then
    grep -hE '^bench |^validation: |MISMATCH' "$work/bench/kernels.log" 2>/dev/null | cut -c1-150 | sed 's/^/  /' \
      | tee -a "$table" || true
    grep -hE '^ *[0-9]+ +[0-9]+ +[0-9]+ |^matmul ' "$work/bench/torch-lstm.log" "$work/bench/torch-matmul.log" \
      2>/dev/null | sed 's/^/  /' | tee -a "$table" || true
    echo "bash .device/device-check.sh run --bench $bench (JMH: ${t[*]}; GEMM paths $paths)" > "$cmds"
  fi
}

# ---- report (here) -----------------------------------------------------------------------------------------------
report() {
  [ $# -ge 1 ] && [ $# -le 2 ] || usage
  local tarball="$1"
  [ -f "$tarball" ] || { echo "device-check: report: no such file: $tarball" >&2; exit 2; }
  local dir="${2:-${tarball%.tar.gz}}"
  [ "$dir" != "$tarball" ] || dir="$tarball.d"
  mkdir -p "$dir"
  tar -xzf "$tarball" -C "$dir" || { echo "device-check: report: cannot unpack $tarball" >&2; exit 1; }
  local jsons=()
  for j in "$dir"/bench/jmh-*.json; do
    [ -s "$j" ] && jsons+=("$j")
  done
  [ -f "$dir/summary.txt" ] && cat "$dir/summary.txt"
  if [ ${#jsons[@]} -eq 0 ]; then
    echo "device-check: report: no JMH results in $tarball (was it run with --bench?)" >&2
    exit 1
  fi
  local jar="$root/$bench_jar"
  if [ ! -f "$jar" ]; then
    echo "device-check: building $bench_jar..." >&2
    (cd "$root" && mvn -B -q -DskipTests package -pl bench -am)
  fi
  local env=()
  [ -f "$dir/environment.txt" ] && env=(--environment "$dir/environment.txt")
  java -cp "$jar" org.rnn4j.bench.Report "${jsons[@]}" "$dir/bench" \
    --command "$(cat "$dir/bench/commands.txt" 2>/dev/null || echo 'device-check.sh run --bench')" "${env[@]}"
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  run) shift; run_checks "$@" ;;
  report) shift; report "$@" ;;
  log-result) shift; [ $# -eq 1 ] && [ -f "$1" ] || { echo "device-check: log-result takes one log file" >&2; exit 2; }
    log_result "$1" ;;
  *) usage ;;
esac
