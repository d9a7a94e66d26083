"""The oldest supported Python is stated once (setup.py) and is true.

It is true when (1) ruff lints for it and every file of the project is valid syntax for it,
(2) the interpreter that runs the suite is not older, and (3) the tested environment
(requirements/constraints.txt) installs on it: every pinned release declares a
``Requires-Python`` that admits it.
"""

import ast
import glob
import importlib.metadata
import os.path as osp
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SOURCE_DIRS = ('mmgrounding', 'tools', 'tests', 'configs', 'benchmarks', 'projects')


def stated_minimum() -> tuple[int, int]:
    """(major, minor) of ``python_requires='>=X.Y'`` in setup.py."""
    with open(osp.join(REPO_ROOT, 'setup.py')) as f:
        tree = ast.parse(f.read())
    specs = [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == 'python_requires'
    ]
    assert len(specs) == 1, 'setup.py must set python_requires once'
    spec = specs[0]
    assert spec.startswith('>=') and ',' not in spec, f'python_requires {spec!r}: want ">=X.Y"'
    major, minor = (int(v) for v in spec[2:].split('.')[:2])
    return major, minor


def project_files() -> list[str]:
    files = [osp.join(REPO_ROOT, 'setup.py')]
    for folder in SOURCE_DIRS:
        files += glob.glob(osp.join(REPO_ROOT, folder, '**', '*.py'), recursive=True)
    return sorted(f for f in files if '/.mim/' not in f)


def test_ruff_targets_the_stated_minimum():
    major, minor = stated_minimum()
    with open(osp.join(REPO_ROOT, 'pyproject.toml'), 'rb') as f:
        ruff = tomllib.load(f)['tool']['ruff']
    assert ruff['target-version'] == f'py{major}{minor}'


def test_every_file_is_valid_syntax_for_the_minimum():
    minimum = stated_minimum()
    files = project_files()
    assert len(files) > 100
    bad = []
    for path in files:
        with open(path, encoding='utf-8') as f:
            source = f.read()
        try:
            ast.parse(source, path, feature_version=minimum)
        except SyntaxError as err:
            bad.append(f'{osp.relpath(path, REPO_ROOT)}:{err.lineno}: {err.msg}')
    assert not bad, '\n'.join(bad)


def test_feature_version_check_can_fail():
    """The check above refuses syntax newer than the minimum (here 3.12's type statement
    and generic syntax, 3.11's except*)."""
    with pytest.raises(SyntaxError):
        ast.parse('type Point = tuple[float, float]\n', feature_version=(3, 11))
    with pytest.raises(SyntaxError):
        ast.parse('def first[T](xs: list[T]) -> T:\n    return xs[0]\n', feature_version=(3, 11))
    with pytest.raises(SyntaxError):
        ast.parse('try:\n    pass\nexcept* ValueError:\n    pass\n', feature_version=(3, 10))


def test_the_suite_runs_on_a_supported_python():
    assert sys.version_info[:2] >= stated_minimum()


def _constraints() -> list[Requirement]:
    path = osp.join(REPO_ROOT, 'requirements', 'constraints.txt')
    with open(path) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    return [Requirement(line) for line in lines if line]


def test_the_tested_environment_installs_on_the_minimum():
    """A release whose Requires-Python excludes the minimum would make the stated minimum a
    lie for anyone who installs the tested environment (numpy 2.4 needs 3.11, say)."""
    major, minor = stated_minimum()
    oldest = f'{major}.{minor}.0'
    checked, refused = 0, []
    for req in _constraints():
        try:
            dist = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        requires = dist.metadata.get('Requires-Python')
        checked += 1
        if requires and not SpecifierSet(requires).contains(oldest, prereleases=True):
            refused.append(f'{req.name} {dist.version} Requires-Python {requires}')
    assert checked >= 20, 'the pinned releases are not installed here'
    assert not refused, f'not installable on Python {oldest}: {refused}'
