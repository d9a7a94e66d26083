"""tools/generate_paraphrases.py: WordNet paraphrases of a config's training texts, resumable."""

import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'selfeq', 'selfeq_albef-tiny_1xb32-900it_synthground-mix.py')


def load_tool():
    path = osp.join(REPO, 'tools', 'generate_paraphrases.py')
    spec = importlib.util.spec_from_file_location('generate_paraphrases', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_texts_are_paraphrased_and_a_second_run_resumes(synthground_root, tmp_path, capsys):
    tool = load_tool()
    out = str(tmp_path / 'paraphrases.json')
    args = ['--config', CONFIG, '--data-root', synthground_root, '--out', out]
    first = tool.main(args + ['--limit', '30', '--save-every', '10'])
    assert first['texts'] == 30
    first_texts = list(json.load(open(out))['paraphrases'])
    counts = tool.main(args)
    assert ': 30 already in' in capsys.readouterr().out  # the second run resumed
    cache = json.load(open(out))
    assert list(cache['paraphrases'])[:30] == first_texts
    texts = list(cache['paraphrases'])
    assert counts['texts'] == len(texts) == len(set(texts)) > 30
    # VG prompts ("a red dog") and captions both come from the config's datasets
    assert any(len(t.split()) <= 4 for t in texts) and any(len(t.split()) > 6 for t in texts)
    # most SynthGround texts name a category WordNet knows: they get paraphrases
    assert counts['texts_without_paraphrase'] < 0.2 * counts['texts']
    for text, paraphrases in cache['paraphrases'].items():
        assert text not in paraphrases


def test_other_settings_refuse_to_resume(tmp_path):
    tool = load_tool()
    texts = tmp_path / 'texts.txt'
    texts.write_text('a red circle\nthe large square\n')
    out = str(tmp_path / 'p.json')
    tool.main(['--texts', str(texts), '--out', out])
    with pytest.raises(SystemExit, match='hypernyms'):
        tool.main(['--texts', str(texts), '--out', out, '--no-hypernyms'])
