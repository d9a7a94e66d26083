"""The SynthGround build a result is measured on: its identity, the work dirs it trains in, the
check that a work dir holds a training on it, and building it (and its vocabulary) when needed."""

import json
import os.path as osp
import time

from .runs import Run

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


def default_work_dir(build: dict | None, base: str = 'work_dirs/leaderboard') -> str:
    """The registry's (or the demo's, ``base='work_dirs/demo'``) work dirs for a build:
    ``base`` for the v1 build the first trainings used (seed 0, 1500 images),
    ``<base>/<preset>-seed<S>[-n<N>]`` for any other, so that no training of one build is
    reused for another."""
    if build is None or (build['preset'], build['seed'], build['num_images']) == ('v1', 0, 1500):
        return base
    tag = f'{build["preset"]}-seed{build["seed"]}'
    if build['num_images'] != 1500:
        tag += f'-n{build["num_images"]}'
    return osp.join(base, tag)


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
