"""benchmarks/camwsvg_step.py: the step's parts add up to the step and each part is timed.

One step at SynthGround sizes (a second or so after the imports). The attention-mining
re-pass of the classifier was once timed under a name the report never read, so its time
fell into "losses + backward": the test asks for a positive AM share inside the CAM part.
"""

import re
import sys

from tests.tool_loader import load_tool

LINE = re.compile(r'^\s+(?P<name>\S.*?)\s+(?P<sec>[0-9.]+) s/step\s+(?P<pct>[0-9.]+) %$')


def test_step_parts_add_up_and_include_the_am_re_pass(monkeypatch, capsys):
    bench = load_tool('benchmarks/camwsvg_step.py')
    argv = ['camwsvg_step.py', '--size', 'synthground', '--batch-size', '2', '--steps', '1']
    monkeypatch.setattr(sys, 'argv', argv)
    bench.main()
    out = capsys.readouterr().out
    rows = {m['name']: float(m['pct']) for m in map(LINE.match, out.splitlines()) if m}
    parts = ['visual', 'text', 'CAM', 'fusion', 'losses + backward']
    assert set(parts) | {'of which AM'} == set(rows), out
    assert abs(sum(rows[p] for p in parts) - 100.0) < 0.5, out
    for part in parts:
        assert rows[part] > 0.0, out
    assert 0.0 < rows['of which AM'] < rows['CAM'], out
