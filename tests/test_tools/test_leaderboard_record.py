"""`leaderboard.py --determinism`: the leaderboard record a determinism run compares with."""

import json

from tests.test_tools.test_analysis_tools import load_tool

BUILD = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')


def record(**overrides) -> dict:
    return dict(
        dict(
            max_iters=900,
            build=BUILD,
            weights_sha256='d' * 64,
            splits={'Flickr30k': {'metrics': {'pointing/accuracy': 61.3}}},
        ),
        **overrides,
    )


def test_only_the_same_schedule_and_build_is_the_record(tmp_path, monkeypatch):
    tool = load_tool('leaderboard')
    path = tmp_path / 'synthground.json'
    monkeypatch.setattr(tool, 'RESULTS', str(path))
    assert tool.leaderboard_record('amc', 900, BUILD) is None  # no results file yet

    def write(run):
        runs = {'amc/seed0': run} if run else {}
        results = dict(format=tool.RESULTS_FORMAT, suite='synthground', runs=runs)
        path.write_text(json.dumps(results))

    write(record())
    assert tool.leaderboard_record('amc', 900, BUILD)['weights_sha256'] == 'd' * 64
    assert tool.leaderboard_record('amc', 100, BUILD) is None  # a --max-iters smoke schedule
    assert tool.leaderboard_record('amc', 900, dict(BUILD, seed=1)) is None  # another build
    assert tool.leaderboard_record('galbef', 900, BUILD) is None
    for bad in (record(smoke=True), record(weights_sha256=None), record(splits={})):
        write(bad)
        assert tool.leaderboard_record('amc', 900, BUILD) is None
