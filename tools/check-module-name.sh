#!/usr/bin/env bash
# Checks that a built jar goes on the module path under the expected name: `jar --describe-module` must derive an
# automatic module named NAME, which it only does from the manifest's Automatic-Module-Name (without it the name comes
# from the file name: rnn4j-native-kernels-*.jar gives 'rnn4j.native.kernels', not a legal name). Maven runs this in
# every jar module's package phase (parent pom.xml, execution check-automatic-module-name).
# usage: tools/check-module-name.sh JAR NAME [JAR_TOOL]     (JAR_TOOL: the JDK's jar, default 'jar' on PATH)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 JAR NAME [JAR_TOOL]" >&2; exit 2; }
jar_file="$1"
want="$2"
jar_tool="${3:-jar}"
[ -f "$jar_file" ] || { echo "$jar_file: no such jar" >&2; exit 1; }
# `jar --describe-module` exits 0 even when it cannot derive a module, so its output is what counts.
out="$("$jar_tool" --describe-module --file "$jar_file" 2>&1)" || true
# The line naming the module: "NAME@VERSION automatic" (or "NAME@VERSION" for an explicit module-info).
got="$(printf '%s\n' "$out" | sed -n 's/^\([A-Za-z0-9_.]*\)@[^ ]*\( automatic\)\{0,1\}$/\1/p' | head -1)"
if [ "$got" != "$want" ]; then
  echo "$jar_file: expected module name $want (Automatic-Module-Name in its manifest), but jar --describe-module says:" >&2
  printf '%s\n' "$out" | head -3 | sed 's/^/  /' >&2
  exit 1
fi
echo "$(basename "$jar_file"): module $want"
