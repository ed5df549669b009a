#!/usr/bin/env bash
# Builds rnn4j's CUDA kernel fatbins, or checks that the committed ones are up to date.
#
#   native-kernels/build-kernels.sh --update   rebuild; rewrite the committed fatbins, kernels.manifest and ptxas-sm90.txt
#   native-kernels/build-kernels.sh --check    (default; what Maven runs in generate-resources) rebuild into
#                                              target/fatbin-check/ and fail if the committed fatbins are stale
#
# --check compiles only when something it depends on changed since the last successful check or --update (the files
# of src/main/cuda, this script, the committed fatbins, kernels.manifest, ptxas-sm90.txt, nvcc's path and version:
# their sha256 are kept in target/fatbin-check/inputs.sha256); otherwise it runs only the cheap hash checks.
#
# Without nvcc (neither on PATH nor at /usr/local/cuda/bin/nvcc) --check prints one line and succeeds: the committed
# fatbins are used as they are, and KernelManifestTest still checks their recorded source hashes against the sources.
# Either mode fails if ptxas reports a spill for any kernel on any architecture. See native-kernels/README.md.
set -euo pipefail

MODE="${1:---check}"
case "$MODE" in
  --update|--check) ;;
  -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
  *) echo "usage: $0 [--update|--check]" >&2; exit 2 ;;
esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/src/main/cuda"
RES="$HERE/src/main/resources/org/rnn4j/kernels"
MANIFEST="$RES/kernels.manifest"
REPORT="$HERE/ptxas-sm90.txt"
CHECK_OUT="$HERE/target/fatbin-check"
INPUTS="$CHECK_OUT/inputs.sha256"   # what the last successful check (or --update) was made from

FAMILIES=(rnn_cell seed_lstm_cell standard_lstm_cell losses reduce sgd gemm embedding dropout optim gemm_fast reduce_chunks)
# SASS for every architecture nvcc 13 can target from Turing on, PTX for the newest so that later GPUs JIT it.
SASS_ARCHS=(75 80 86 87 88 89 90 100 103 110 120 121)
PTX_ARCH=121
# -fmad=false: no fused multiply-add, so every a * b + c rounds twice as in Java (see rnn4j_math.cuh).
# -prec-div/-prec-sqrt/-ftz: IEEE division, square root and denormals (the defaults, spelled out).
BASE_FLAGS=(-O3 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false -std=c++17)
GENCODE=()
for a in "${SASS_ARCHS[@]}"; do
  if [ "$a" = "$PTX_ARCH" ]; then
    GENCODE+=(-gencode "arch=compute_$a,code=[sm_$a,compute_$a]")
  else
    GENCODE+=(-gencode "arch=compute_$a,code=sm_$a")
  fi
done
FLAGS=("${BASE_FLAGS[@]}" "${GENCODE[@]}")
FLAGS_LINE="${FLAGS[*]}"
ARCH_LINE="$(printf 'sm_%s ' "${SASS_ARCHS[@]}")compute_$PTX_ARCH"

# The source hash of a family: sha256 of its .cu bytes, then rnn4j_math.cuh's bytes, then the flags line (UTF-8, no
# newline). KernelManifestTest recomputes it the same way.
source_hash() {
  { cat "$SRC/$1.cu" "$SRC/rnn4j_math.cuh"; printf '%s' "$FLAGS_LINE"; } | sha256sum | cut -d' ' -f1
}

file_hash() {
  sha256sum "$1" | cut -d' ' -f1
}

# One line per thing a check depends on, "sha256  name": nvcc (path and version line), this script, every file under
# src/main/cuda (sources and headers, new ones included), the committed fatbins, the manifest and the sm_90 report.
inputs_listing() {
  printf '%s  nvcc %s\n' "$(printf '%s' "$NVCC $NVCC_VERSION" | sha256sum | cut -d' ' -f1)" "$NVCC"
  printf '%s  build-kernels.sh\n' "$(file_hash "$HERE/build-kernels.sh")"
  (cd "$SRC" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sed 's|  \./|  src/main/cuda/|')
  for f in "${FAMILIES[@]}"; do
    if [ -f "$RES/$f.fatbin" ]; then
      printf '%s  %s.fatbin\n' "$(file_hash "$RES/$f.fatbin")" "$f"
    else
      printf 'missing  %s.fatbin\n' "$f"
    fi
  done
  printf '%s  kernels.manifest\n' "$(file_hash "$MANIFEST")"
  if [ -f "$REPORT" ]; then printf '%s  ptxas-sm90.txt\n' "$(file_hash "$REPORT")"; else echo "missing  ptxas-sm90.txt"; fi
}

manifest_value() { # key -> value from the committed manifest, empty if absent
  [ -f "$MANIFEST" ] || return 0
  grep -m1 "^$1=" "$MANIFEST" | cut -d= -f2- || true
}

NVCC=""
if command -v nvcc >/dev/null 2>&1; then
  NVCC="$(command -v nvcc)"
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  NVCC=/usr/local/cuda/bin/nvcc
fi
if [ -z "$NVCC" ]; then
  if [ "$MODE" = --update ]; then
    echo "nvcc not found (PATH, /usr/local/cuda/bin/nvcc): cannot --update the fatbins" >&2
    exit 1
  fi
  echo "nvcc not found: using the committed fatbins"
  exit 0
fi
NVCC_VERSION="$("$NVCC" --version | grep -m1 'release')"

if [ "$MODE" = --check ]; then
  # --check, first the cheap part, so that a stale checkout fails before the build. nvcc 13.0's fatbins were
  # measured byte-identical across runs and checkout paths (README.md), so with the manifest's nvcc the fresh
  # fatbins must equal the committed ones byte for byte (below); with another nvcc the bytes may legitimately
  # differ, and only the recorded source + flags hashes are compared.
  STALE="run native-kernels/build-kernels.sh --update and commit the result"
  [ -f "$MANIFEST" ] || { echo "no $MANIFEST: $STALE" >&2; exit 1; }
  if [ "$(manifest_value flags)" != "$FLAGS_LINE" ]; then
    echo "kernels.manifest records other nvcc flags than build-kernels.sh uses: $STALE" >&2
    exit 1
  fi
  recorded_version="$(manifest_value nvcc)"
  compare_bytes=1
  if [ "$recorded_version" != "$NVCC_VERSION" ]; then
    compare_bytes=0
    echo "note: nvcc is '$NVCC_VERSION' but the fatbins were built with '$recorded_version':" \
         "comparing source + flags hashes only"
  fi
  for f in "${FAMILIES[@]}"; do
    if [ "$(manifest_value "source_sha256.$f")" != "$(source_hash "$f")" ]; then
      echo "kernel family $f: src/main/cuda/$f.cu or rnn4j_math.cuh changed since its fatbin was built: $STALE" >&2
      exit 1
    fi
    committed="$RES/$f.fatbin"
    if [ ! -f "$committed" ] || [ "$(manifest_value "fatbin_sha256.$f")" != "$(file_hash "$committed")" ]; then
      echo "kernel family $f: $f.fatbin is missing or does not match kernels.manifest: $STALE" >&2
      exit 1
    fi
  done
  # Nothing the check depends on changed since it last passed: the fresh build would be the same bytes (nvcc 13.0's
  # output was measured deterministic, README.md), so skip nvcc. A changed or missing record means a full check.
  inputs_now="$(inputs_listing)"
  if [ -f "$INPUTS" ] && [ "$(cat "$INPUTS")" = "$inputs_now" ]; then
    echo "kernel fatbins up to date: sources, headers, build script, fatbins and nvcc unchanged since the last" \
         "full check (target/fatbin-check/inputs.sha256; delete it to force one)"
    exit 0
  fi
  if [ -f "$INPUTS" ]; then
    changed="$({ diff <(printf '%s\n' "$inputs_now") "$INPUTS" || true; } \
      | sed -n 's/^[<>] [^ ]*  //p' | LC_ALL=C sort -u | tr '\n' ' ')"
    echo "changed since the last full check: ${changed% }: compiling the kernels to compare"
  else
    echo "no record of a full check in target/fatbin-check/: compiling the kernels to compare"
  fi
fi

if [ "$MODE" = --update ]; then
  OUT="$HERE/target/fatbin-build"
else
  OUT="$CHECK_OUT"
fi
rm -rf "$OUT"
mkdir -p "$OUT"

# Compiles one family into $OUT/<family>.fatbin, its ptxas report in $OUT/<family>.ptxas. Run from the source folder
# with relative names, so nothing of the checkout's absolute path can reach the output.
compile_family() {
  local f="$1"
  if ! (cd "$SRC" && "$NVCC" -fatbin "${FLAGS[@]}" -Xptxas -v -o "$OUT/$f.fatbin" "$f.cu") >"$OUT/$f.ptxas" 2>&1; then
    cat "$OUT/$f.ptxas" >&2
    echo "nvcc failed for kernel family $f" >&2
    return 1
  fi
}

# The families in parallel, one nvcc each, as many at a time as there are CPUs.
JOBS="$(nproc 2>/dev/null || echo 2)"
start=$SECONDS
pids=()
failed=0
waited=0
for f in "${FAMILIES[@]}"; do
  if [ $(( ${#pids[@]} - waited )) -ge "$JOBS" ]; then # wait for the oldest still running
    wait "${pids[$waited]}" || failed=1
    waited=$((waited + 1))
  fi
  compile_family "$f" &
  pids+=($!)
done
while [ "$waited" -lt "${#pids[@]}" ]; do
  wait "${pids[$waited]}" || failed=1
  waited=$((waited + 1))
done
[ "$failed" = 0 ] || exit 1
echo "compiled ${#FAMILIES[@]} kernel families for $ARCH_LINE in $((SECONDS - start)) s ($JOBS at a time)"

# No kernel may spill on any architecture.
spills=0
for f in "${FAMILIES[@]}"; do
  if grep -E '[1-9][0-9]* bytes spill (stores|loads)' "$OUT/$f.ptxas" >/dev/null; then
    echo "ptxas reports register spills in kernel family $f:" >&2
    awk '/Compiling entry function/ {entry=$0} /[1-9][0-9]* bytes spill (stores|loads)/ {print "  " entry; print "  " $0}' \
      "$OUT/$f.ptxas" >&2
    spills=1
  fi
done
[ "$spills" = 0 ] || { echo "register spills: fix the kernels (see above)" >&2; exit 1; }

# The sm_90 part of the ptxas reports, without the compile times (which change from run to run).
write_sm90_report() {
  {
    echo "# ptxas -v for sm_90, written by native-kernels/build-kernels.sh --update ($NVCC_VERSION)."
    echo "# The build fails if any kernel on any architecture reports non-zero spill stores or loads."
    for f in "${FAMILIES[@]}"; do
      echo "## $f"
      awk '
        /Compiling entry function/ { arch = ($0 ~ /for .sm_90.$/) ? 1 : 0 }
        /Compile time/ { next }
        arch && /^ptxas info|^    / { print }
        /^ptxas info *: Used/ { arch = 0 }
      ' "$OUT/$f.ptxas"
    done
  } >"$1"
}

if [ "$MODE" = --update ]; then
  mkdir -p "$RES"
  {
    echo "# rnn4j CUDA kernel fatbins, written by native-kernels/build-kernels.sh --update; do not edit."
    echo "# source_sha256.F = sha256 of F.cu, then rnn4j_math.cuh, then the flags value (UTF-8, no newline)."
    echo "# fatbin_sha256.F = sha256 of F.fatbin."
    echo "nvcc=$NVCC_VERSION"
    echo "flags=$FLAGS_LINE"
    echo "architectures=$ARCH_LINE"
    echo "families=${FAMILIES[*]}"
    for f in "${FAMILIES[@]}"; do
      cp "$OUT/$f.fatbin" "$RES/$f.fatbin"
      echo "source_sha256.$f=$(source_hash "$f")"
      echo "fatbin_sha256.$f=$(file_hash "$RES/$f.fatbin")"
    done
  } >"$MANIFEST.tmp"
  mv "$MANIFEST.tmp" "$MANIFEST"
  write_sm90_report "$REPORT"
  # The committed files are now this build's output, which passed the spill check: record them, so the next --check
  # (the next Maven build) need not compile them again.
  rm -rf "$CHECK_OUT"
  mkdir -p "$CHECK_OUT"
  inputs_listing >"$INPUTS.tmp"
  mv "$INPUTS.tmp" "$INPUTS"
  echo "updated $RES/{$(IFS=,; echo "${FAMILIES[*]}")}.fatbin, kernels.manifest and ptxas-sm90.txt"
  exit 0
fi

# --check, after the build: with the manifest's nvcc the fresh fatbins must equal the committed ones byte for byte.
for f in "${FAMILIES[@]}"; do
  if [ "$compare_bytes" = 1 ] && ! cmp -s "$OUT/$f.fatbin" "$RES/$f.fatbin"; then
    echo "kernel family $f: the committed $f.fatbin differs from a fresh build: $STALE" >&2
    exit 1
  fi
done
write_sm90_report "$OUT/ptxas-sm90.txt"
if [ "$compare_bytes" = 1 ] && ! cmp -s "$OUT/ptxas-sm90.txt" "$REPORT"; then
  echo "ptxas-sm90.txt differs from a fresh build's report: $STALE" >&2
  exit 1
fi
# Recorded only now that everything passed; a failed check leaves no record and runs in full next time.
printf '%s\n' "$inputs_now" >"$INPUTS.tmp"
mv "$INPUTS.tmp" "$INPUTS"
echo "kernel fatbins up to date ($NVCC_VERSION)"
