"""requirements/*.txt give every dependency a tested range; constraints.txt pins inside it."""

import importlib.metadata
import os.path as osp

import pytest
from packaging.requirements import Requirement

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RANGED = ('build.txt', 'runtime.txt', 'tests.txt')  # mminstall.txt pins exact releases


def read_requirements(name: str) -> list[Requirement]:
    with open(osp.join(REPO_ROOT, 'requirements', name)) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    return [Requirement(line) for line in lines if line]


def _key(name: str) -> str:
    return name.lower().replace('_', '-')


@pytest.mark.parametrize('name', RANGED + ('mminstall.txt',))
def test_every_requirement_is_bounded_on_both_sides(name):
    for req in read_requirements(name):
        ops = {spec.operator for spec in req.specifier}
        assert '==' in ops or ('>=' in ops and '<' in ops), f'{name}: {req} needs >=X,<Y'


@pytest.mark.parametrize('name', RANGED + ('mminstall.txt',))
def test_the_installed_releases_satisfy_the_ranges(name):
    for req in read_requirements(name):
        installed = importlib.metadata.version(req.name)
        assert req.specifier.contains(installed, prereleases=True), (
            f'{name}: {req.name} {installed} is outside {req.specifier}'
        )


def test_constraints_pin_every_requirement_inside_its_range():
    pins = {}
    for req in read_requirements('constraints.txt'):
        [spec] = list(req.specifier)
        assert spec.operator == '==', f'constraints.txt: {req} is not an exact pin'
        assert _key(req.name) not in pins, f'constraints.txt pins {req.name} twice'
        pins[_key(req.name)] = spec.version
    assert 'torch' in pins and 'mmcv' in pins and 'mmgrounding' not in pins
    for name in RANGED + ('mminstall.txt',):
        for req in read_requirements(name):
            assert _key(req.name) in pins, f'constraints.txt lacks {req.name} of {name}'
            assert req.specifier.contains(pins[_key(req.name)], prereleases=True), (
                f'constraints.txt: {req.name}=={pins[_key(req.name)]} outside {name} {req}'
            )
