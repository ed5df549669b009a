#!/usr/bin/env bash
# Whole-process time of the commands users type first, against the seed scripts they replace, with hyperfine.
#
#   bench/scripts/start-vs-seeds.sh [--rounds 5] [--seeds DIR]
#
# Pairs: `./rnn4j train lstm` vs `python3 test.py`, `./rnn4j train rnn` vs `python3 iamtrask_rnn.py` (in the seeds'
# directory, output to /dev/null). Each round runs hyperfine once per pair, the two commands alternating one run at
# a time (hyperfine --runs 1, twice, in the order A B B A), so that a busy spell on a shared machine hits both; the
# table gives the median over all runs of each and the ratio seed / rnn4j. The load average is printed.
# Needs hyperfine (Debian: apt-get install hyperfine), python3 with numpy, and the built launcher jar.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds=5
seeds="$root/../shared/seeds/python3"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --seeds) seeds="$2"; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-vs-seeds.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$rounds" in ''|*[!0-9]*|0) echo "start-vs-seeds.sh: --rounds takes a positive integer" >&2; exit 2 ;; esac
command -v hyperfine > /dev/null || { echo "start-vs-seeds.sh: hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
[ -f "$seeds/test.py" ] || { echo "start-vs-seeds.sh: no seed scripts in $seeds (give --seeds DIR)" >&2; exit 2; }
seeds="$(cd "$seeds" && pwd)"
"$root/rnn4j" --version > /dev/null   # builds the jar when missing or stale, outside the timings
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  for pair in "lstm test.py" "rnn iamtrask_rnn.py"; do
    set -- $pair
    a="$root/rnn4j train $1"
    b="cd $seeds && python3 $2"
    for order in 1 2; do
      if [ "$order" = 1 ]; then first="$a"; second="$b"; else first="$b"; second="$a"; fi
      hyperfine -N --runs 1 --style none --export-json "$out/$1-$r-$order.json" "$first" "$second" > /dev/null 2>&1 \
        || hyperfine --runs 1 --style none --export-json "$out/$1-$r-$order.json" "$first" "$second" > /dev/null
    done
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$rounds" "$load_before" "$load_after" <<'PY'
import glob, json, statistics, sys
out, rounds, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
print("whole process, rnn4j launcher vs the seed script; hyperfine, %d rounds of A B B A, medians" % rounds)
print("command: bash bench/scripts/start-vs-seeds.sh --rounds %d" % rounds)
print("load average before: %s, after: %s" % (before, after))
print("%-22s %10s %10s %8s" % ("command", "rnn4j s", "seed s", "seed/rnn4j"))
for net in ("lstm", "rnn"):
    ours, theirs = [], []
    for f in glob.glob("%s/%s-*.json" % (out, net)):
        for r in json.load(open(f))["results"]:
            (ours if "rnn4j train" in r["command"] else theirs).extend(r["times"])
    o, t = statistics.median(ours), statistics.median(theirs)
    print("%-22s %10.3f %10.3f %7.2fx   (%d runs each)" % ("train " + net, o, t, t / o, len(ours)))
PY
