#!/usr/bin/env python3
"""Writes the oracle traces the tests compare rnn4j against, one <name>.jsonl per entry of cases.json.

Command (from the repository root, with ../shared/seeds beside it and numpy installed):
    python3 java/src/test/resources/org/rnn4j/traces/make_traces.py ../shared/seeds/oracle

The two *-default cases must come out identical to ../shared/seeds/golden/; the script checks that."""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
oracle = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '../../../../../../../../shared/seeds/oracle'))
for case in json.load(open(os.path.join(here, 'cases.json'))):
    cmd = [sys.executable, os.path.join(oracle, 'oracle_%s.py' % case['network'])]
    for k, v in case['args'].items():
        cmd.append('--%s=%s' % (k, v))  # '=' so that a target list starting with '-' is not read as an option
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    path = os.path.join(here, case['name'] + '.jsonl')
    if case['name'].endswith('-default'):
        golden = open(os.path.join(oracle, '..', 'golden', case['name'] + '.jsonl')).read()
        assert out == golden, case['name'] + ' differs from the golden trace'
    open(path, 'w').write(out)
    print('oracle_%s.py' % case['network'], ' '.join(cmd[2:]), '->', os.path.basename(path), len(out.splitlines()), 'lines')
