#!/usr/bin/env bash
# How sensitive is an LSTM setting to rounding? For each line of settings (oracle_lstm.py options, '--name=value'),
# prints the largest |rnn4j float64 - oracle| over the trace, next to the largest |oracle' - oracle| where oracle' is
# the oracle with each gate's dot product summed in reverse order (a perturbation of rounding only). Where oracle'
# itself leaves 1e-9 * |want| + 1e-12, the run amplifies rounding and no implementation can be held to that bound.
# usage: tools/oracle-sensitivity.sh [SETTINGS_FILE]   (default: the settings below; needs python3 with numpy)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
oracle="$root/tools/oracle/oracle_lstm.py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed 's/np.dot(P\[\(.\{4\}\)\], xc)/np.dot(P[\1][:, ::-1], xc[::-1])/g' "$oracle" > "$work/reversed.py"
[ "$(grep -c '::-1' "$work/reversed.py")" = 4 ] || { echo "could not make the reversed oracle" >&2; exit 1; }
settings="${1:-$work/settings}"
if [ -z "${1:-}" ]; then
  cat > "$settings" <<'LIST'
--seed=0
--seed=3 --hidden=20 --targets=-0.3,0.6,0.1
--seed=1 --hidden=50 --input-dim=10
--seed=2 --hidden=30 --input-dim=30 --targets=0.5,-0.5,0.5,-0.5,0.5
--seed=4 --hidden=100 --input-dim=50 --lr=0.2
--seed=5 --hidden=16 --input-dim=8 --targets=0.1,0.2,0.3
--seed=6 --hidden=64 --input-dim=64 --targets=-0.2,0.4
--seed=7 --hidden=128 --input-dim=32
--seed=8 --hidden=10 --input-dim=5 --iterations=300
--seed=9 --hidden=200 --input-dim=100 --lr=0.05
LIST
fi
rnn4j="$root/rnn4j"
"$rnn4j" --version > /dev/null  # build once
printf '%-62s %-34s %s\n' "setting" "rnn4j float64 vs oracle" "reversed oracle vs oracle"
while read -r line; do
  [ -z "$line" ] && continue
  # shellcheck disable=SC2086
  python3 "$oracle" $line > "$work/want.jsonl" < /dev/null
  # shellcheck disable=SC2086
  python3 "$work/reversed.py" $line > "$work/rev.jsonl" < /dev/null
  # shellcheck disable=SC2046
  "$rnn4j" train lstm --precision float64 --backend cpu --quiet --trace "$work/got.jsonl" $(echo "$line" | sed 's/=/ /g') < /dev/null
  got=$({ "$rnn4j" compare "$work/got.jsonl" "$work/want.jsonl" || true; } | tail -1 | sed 's/.*max |got - want| \([^,]*\),.*; \(.*\)/\1 (\2)/')
  rev=$({ "$rnn4j" compare "$work/rev.jsonl" "$work/want.jsonl" || true; } | tail -1 | sed 's/.*max |got - want| \([^,]*\),.*; \(.*\)/\1 (\2)/')
  printf '%-62s %-34s %s\n' "$line" "$got" "$rev"
done < "$settings"  # (every command inside reads /dev/null, not this list)
