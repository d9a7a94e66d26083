"""The SynthGround build a result is measured on: its identity, the work dirs it trains in, the
check that a work dir holds a training on it, the recipes retargeted to another build's folder,
and building it (and its vocabulary) when needed."""

import json
import os.path as osp
import time

from mmengine.config import Config

from .evaluation_runs import SYNTHGROUND_ROOT
from .runs import REPO_ROOT, Run

# the SynthGround build a training used (build_identity), written when it starts
BUILD_FILE = osp.join('experiment', 'build.json')
# the build of a training from before builds were recorded: the default of that time
LEGACY_BUILD = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')


def ensure_synthground(out_dir: str, *, seed: int, num_images: int, preset: str = 'v2') -> dict:
    """Build SynthGround unless ``out_dir`` already holds the build for these arguments.

    ``preset``: ``'v2'`` (the default build) or ``'v1'``. A v1 build records no ``preset`` in
    its ``meta.json`` (its files predate presets).
    """
    from mmgrounding.datasets.synthground import build_synthground

    meta_path = osp.join(out_dir, 'meta.json')
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        args = meta.get('arguments', {})
        if (
            args.get('seed') == seed
            and args.get('num_images') == num_images
            and args.get('preset', 'v1') == preset
        ):
            return meta
    start = time.perf_counter()
    build_synthground(out_dir, seed=seed, num_images=num_images, preset=preset)
    print(f'SynthGround built in {out_dir} in {time.perf_counter() - start:.1f} s')
    with open(meta_path) as f:
        return json.load(f)


def read_data_meta(data_root: str) -> dict:
    """The ``meta.json`` of a SynthGround build (its arguments and generator version)."""
    meta_path = osp.join(data_root, 'meta.json')
    if not osp.isfile(meta_path):
        raise FileNotFoundError(
            f'{meta_path} does not exist: build SynthGround first '
            '(`make synthground`, and `make proposals` for the region cache)'
        )
    with open(meta_path) as f:
        meta = json.load(f)
    return dict(arguments=meta.get('arguments'), generator_version=meta.get('generator_version'))


def build_identity(data: dict) -> dict:
    """What makes two SynthGround builds the same for a result: preset, seed, size, version.

    ``data`` is a ``meta.json`` or :func:`read_data_meta`'s dict (``arguments``,
    ``generator_version``); a build without ``preset`` in its arguments is v1 (its files
    predate presets).
    """
    args = data.get('arguments') or {}
    return dict(
        preset=args.get('preset', 'v1'),
        seed=args.get('seed'),
        num_images=args.get('num_images'),
        generator_version=data.get('generator_version'),
    )


def build_text(build: dict) -> str:
    """``'v2 (seed 0, 1500 images, generator 2.0.0)'``."""
    return (
        f'{build["preset"]} (seed {build["seed"]}, {build["num_images"]} images, '
        f'generator {build["generator_version"]})'
    )


def record_build(record: dict) -> dict | None:
    """The build a results record was measured on: its ``build``, or the one its ``data``
    (the build's meta) gives for records written before builds were recorded."""
    if record.get('build'):
        return record['build']
    if record.get('data'):
        return build_identity(record['data'])
    return None


def build_tag(build: dict) -> str:
    """``'<preset>-seed<S>[-n<N>]'`` (``-n<N>`` when not 1500 images): a build in file names."""
    tag = f'{build["preset"]}-seed{build["seed"]}'
    if build['num_images'] != 1500:
        tag += f'-n{build["num_images"]}'
    return tag


def default_work_dir(build: dict | None, base: str = 'work_dirs/leaderboard') -> str:
    """The registry's (or the demo's, ``base='work_dirs/demo'``) work dirs for a build:
    ``base`` for the v1 build the first trainings used (seed 0, 1500 images),
    ``<base>/<build_tag>`` for any other, so that no training of one build is reused for
    another."""
    if build is None or (build['preset'], build['seed'], build['num_images']) == ('v1', 0, 1500):
        return base
    return osp.join(base, build_tag(build))


def synthground_root(root: str) -> str:
    """A build's folder spelt as the configs spell theirs: relative to the repository when
    inside it, normalised, ending in ``/`` (``'data/synthground-seed1/'``)."""
    path = osp.normpath(root)
    if osp.isabs(path) and osp.commonpath([path, REPO_ROOT]) == REPO_ROOT:
        path = osp.relpath(path, REPO_ROOT)
    return path.rstrip('/') + '/'


def is_default_root(root: str | None) -> bool:
    """Whether ``root`` is the build the configs read (``data/synthground/``) or not given."""
    return root is None or synthground_root(root) == SYNTHGROUND_ROOT


def retarget_synthground(cfg: Config, root: str | None) -> Config:
    """``cfg`` reading the SynthGround build at ``root`` in place of ``data/synthground/``.

    Every string of the config that starts with ``data/synthground/`` (or is
    ``data/synthground``) starts with ``root`` instead: the data roots of the datasets and
    everything a recipe derives from the build (region caches, WordPiece vocabulary, masked LM,
    word caches, negatives, relation and phrase vocabularies, paraphrases, CAM classifier
    weights). For the default build (``root`` None or ``data/synthground/``) the config itself
    is returned, unchanged to the byte, so that the work dirs trained on it stay reusable.
    """
    if is_default_root(root):
        return cfg
    new = synthground_root(root)
    old = SYNTHGROUND_ROOT

    def retarget(value):
        if isinstance(value, str):
            if value == old.rstrip('/'):
                return new.rstrip('/')
            return new + value[len(old) :] if value.startswith(old) else value
        if isinstance(value, dict):
            return {k: retarget(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(retarget(v) for v in value)
        return value

    return Config(retarget(cfg.to_dict()))


def ensure_vocab(data_root: str) -> str:
    """SynthGround's WordPiece vocabulary for the small text encoders."""
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    vocab = osp.join(data_root, 'vocab.txt')
    if not osp.isfile(vocab):
        size = train_vocab(collect_texts(data_root), vocab)
        print(f'vocabulary of {size} tokens written to {vocab}')
    return vocab


def check_same_build(run: Run) -> None:
    """Refuse to resume or reuse a work dir whose training used another SynthGround build
    (a training without :data:`BUILD_FILE` predates them: :data:`LEGACY_BUILD`)."""
    if run.build is None:
        return
    build_file = osp.join(run.work_dir, BUILD_FILE)
    old = LEGACY_BUILD
    if osp.isfile(build_file):
        with open(build_file) as f:
            old = json.load(f)
    if old != run.build:
        raise RuntimeError(
            f'{run.work_dir} holds a training on another SynthGround build ({build_text(old)}; '
            f'this run trains on {build_text(run.build)}); remove the folder or choose another '
            'work dir'
        )
