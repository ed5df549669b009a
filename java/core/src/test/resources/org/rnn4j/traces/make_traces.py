#!/usr/bin/env python3
"""Writes the oracle traces the tests compare rnn4j against, one <name>.jsonl per entry of cases.json.

Command (from the repository root, with numpy installed; ORACLE_DIR defaults to tools/oracle):
    python3 java/core/src/test/resources/org/rnn4j/traces/make_traces.py [ORACLE_DIR]

The two *-default cases must come out identical to the seeds' golden traces, which are the committed *-default.jsonl
files here (copies of the seeds' golden/); the script checks that before rewriting anything."""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
oracle = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '../../../../../../../tools/oracle'))
outputs = []
for case in json.load(open(os.path.join(here, 'cases.json'))):
    cmd = [sys.executable, os.path.join(oracle, 'oracle_%s.py' % case['network'])]
    for k, v in case['args'].items():
        cmd.append('--%s=%s' % (k, v))  # '=' so that a target list starting with '-' is not read as an option
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    path = os.path.join(here, case['name'] + '.jsonl')
    if case['name'].endswith('-default'):
        golden = open(path).read()
        assert out == golden, case['name'] + ' differs from the golden trace ' + path
    outputs.append((path, out))
    print('oracle_%s.py' % case['network'], ' '.join(cmd[2:]), '->', os.path.basename(path), len(out.splitlines()), 'lines')
for path, out in outputs:  # only once every case ran and the golden ones matched
    open(path, 'w').write(out)
