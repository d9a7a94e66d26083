"""tools/demo.py's printed parts: the results table and the determinism note under it."""

import json

from tests.tool_loader import load_tool as load_tool_file


def load_demo():
    return load_tool_file('tools/demo.py')


def test_spread_note_reads_the_full_recipe_report_first(tmp_path, monkeypatch):
    demo = load_demo()
    short, full = tmp_path / 'determinism.json', tmp_path / 'determinism_full.json'
    report = dict(experiment='amc', iters=100, same_threads_identical=True,
                  two_threads_identical=False, max_abs_diff=1.3)
    short.write_text(json.dumps(report))
    monkeypatch.setattr(demo, 'DETERMINISM', str(short))
    monkeypatch.setattr(demo, 'DETERMINISM_FULL', str(full))
    note = demo.spread_note()
    assert 'bitwise identical weights (yes)' in note and 'two threads: not repeatable' in note
    assert 'up to 1.30 points (amc, 100 iterations' in note
    full.write_text(json.dumps(dict(report, iters=900, max_abs_diff=2.5)))
    assert 'up to 2.50 points (amc, 900 iterations' in demo.spread_note()
    monkeypatch.setattr(demo, 'DETERMINISM_FULL', str(tmp_path / 'none.json'))
    monkeypatch.setattr(demo, 'DETERMINISM', str(tmp_path / 'none.json'))
    assert demo.spread_note() == ''


def test_format_table_marks_missing_metrics():
    demo = load_demo()
    text = demo.format_table([('amc', {'pointing/accuracy': 61.316}), ('centre', {})])
    lines = text.splitlines()
    assert lines[0].startswith('| model | pointing acc. |')
    assert lines[2].startswith('| amc | 61.32 | - |') and lines[3].startswith('| centre | - |')
