"""tools/train_text_mlm.py and tools/generate_negatives.py end to end on SynthGround."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmgrounding.text.negatives import read_negatives

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_mlm(synthground_root, tmp_path_factory):
    """A masked LM trained for 5 steps: a WordPiece vocabulary is trained first (the 40-image
    build has none), model and tokenizer saved with save_pretrained."""
    out = str(tmp_path_factory.mktemp('mlm') / 'mlm')
    load_tool('train_text_mlm').main([
        '--data-root', synthground_root, '--out', out, '--steps', '5', '--batch-size', '8',
        '--hidden-size', '16', '--layers', '1', '--heads', '2', '--log-every', '5'])
    return out


def test_train_text_mlm(tiny_mlm):
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    log = json.loads(open(osp.join(tiny_mlm, 'train_log.json')).read())
    assert log['steps'] == 5 and log['train_captions'] > 0
    assert log['vocab'].startswith('trained on')
    assert 0 < log['val']['masked_tokens'] and 0 <= log['val']['accuracy'] <= 1
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm)
    tokenizer = AutoTokenizer.from_pretrained(tiny_mlm)
    assert model.config.hidden_size == 16 and model.config.vocab_size == len(tokenizer)
    assert 'circle' in tokenizer.get_vocab()


def generate(tiny_mlm, captions, out, *extra):
    load_tool('generate_negatives').main([
        tiny_mlm, '--captions', captions, '--out', out, '--num-plausible', '6',
        '--num-negatives', '4', '--save-every', '2', *extra])
    with open(out) as f:
        return f.read()


def test_generate_negatives_resumes_to_the_same_file(tiny_mlm, synthground_root, tmp_path):
    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_val.json')
    num_captions = len(json.load(open(captions))['annotations'])
    whole = generate(tiny_mlm, captions, str(tmp_path / 'whole.json'))
    # 3 captions, then the rest: the same bytes as one run (deterministic and resumable)
    generate(tiny_mlm, captions, str(tmp_path / 'resumed.json'), '--limit', '3')
    assert len(read_negatives(str(tmp_path / 'resumed.json'))) == 3
    assert generate(tiny_mlm, captions, str(tmp_path / 'resumed.json')) == whole

    cache = json.loads(whole)
    assert cache['counts']['captions'] == num_captions
    assert cache['settings']['mode'] == 'reranked' and cache['settings']['mlm_sha256']
    entries = read_negatives(str(tmp_path / 'whole.json'))
    lists = 0
    for entry in entries.values():
        for position, negatives in entry['negatives'].items():
            assert 0 < len(negatives) <= 4
            assert entry['words'][position] not in negatives
            assert set(negatives) <= set(cache['candidates'])
            lists += 1
    assert lists == cache['counts']['nouns'] > 0

    # other settings in the same file are refused, naming the difference
    with pytest.raises(SystemExit, match='num_negatives'):
        load_tool('generate_negatives').main([
            tiny_mlm, '--captions', captions, '--out', str(tmp_path / 'whole.json'),
            '--num-plausible', '6', '--num-negatives', '5'])


def test_generate_random_negatives_from_the_command_line(tiny_mlm, synthground_root, tmp_path):
    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_val.json')
    out = tmp_path / 'random.json'
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'generate_negatives.py'), tiny_mlm,
         '--captions', captions, '--out', str(out), '--mode', 'random', '--num-negatives', '3',
         '--seed', '1'], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert 'captions done in this run' in result.stdout
    cache = json.loads(out.read_text())
    assert cache['settings']['mode'] == 'random' and cache['settings']['mlm_sha256'] is None
    assert cache['counts']['nouns'] == cache['counts']['nouns_with_all_negatives'] > 0
