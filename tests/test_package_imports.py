"""The package's import graph: no module imports itself back, each one imports on its own."""

import ast
import os
import os.path as osp
import subprocess
import sys
import textwrap
from typing import Optional

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = 'mmgrounding'


def package_modules(root: str = REPO_ROOT, package: str = PACKAGE) -> dict[str, str]:
    """Dotted module name -> file of every module of ``package`` (hidden folders skipped:
    ``.mim`` holds links to tools and configs)."""
    modules = {}
    for folder, dirs, files in os.walk(osp.join(root, package)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '__')))
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            parts = osp.relpath(osp.join(folder, name), root)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            modules['.'.join(parts)] = osp.join(folder, name)
    return modules


def _imported_names(module: str, path: str, node: ast.AST, modules: dict[str, str]) -> set[str]:
    """Absolute names an ``import`` / ``from ... import`` statement of ``module`` reaches."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    target = node.module
    if node.level:
        base = module.split('.')
        if not path.endswith('__init__.py'):
            base = base[:-1]  # a relative import starts at the module's package
        base = base[: len(base) - node.level + 1]
        target = '.'.join(base + ([node.module] if node.module else []))
    # ``from pkg import sub`` imports the submodule when there is one, else a name of pkg
    names = {f'{target}.{alias.name}' for alias in node.names}
    return {name if name in modules else target for name in names}


def import_graph(modules: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its file.

    Every import statement counts, also those inside functions and ``if TYPE_CHECKING:``
    blocks: a lazy import hides a circle, it does not break it. Imports of a module's own
    parent packages are left out (Python imports them before the module anyway).
    """
    graph = {}
    for module, path in modules.items():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        edges = set()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported_names(module, path, node, modules):
                while name and name not in modules:
                    name = name.rpartition('.')[0]  # mmgrounding.x.func -> mmgrounding.x
                if name and name != module and not module.startswith(name + '.'):
                    edges.add(name)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> Optional[list[str]]:
    """One import circle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> Optional[list[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_sees_lazy_and_type_checking_imports(tmp_path):
    """The checker itself: a circle closed by a function-level import or an import under
    ``TYPE_CHECKING`` is found, the same modules without it are not a circle."""
    pkg = tmp_path / 'pkg'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('from .a import f\n')
    (pkg / 'a.py').write_text('from .b import g\n\ndef f():\n    return g()\n')
    (pkg / 'b.py').write_text('def g():\n    from .a import f  # lazy\n    return f\n')
    (pkg / 'c.py').write_text(
        'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import g\n'
    )
    modules = package_modules(str(tmp_path), 'pkg')
    assert set(modules) == {'pkg', 'pkg.a', 'pkg.b', 'pkg.c'}
    graph = import_graph(modules)
    assert graph['pkg.c'] == {'pkg.b'}
    assert graph['pkg'] == {'pkg.a'}
    assert find_cycle(graph) == ['pkg.a', 'pkg.b', 'pkg.a']
    (pkg / 'b.py').write_text('def g():\n    return 1\n')
    assert find_cycle(import_graph(modules)) is None


def test_no_import_cycle_among_package_modules():
    modules = package_modules()
    graph = import_graph(modules)
    # the two circles this test was written for are gone
    assert (
        'mmgrounding.datasets.synthground.builder'
        not in graph['mmgrounding.datasets.synthground.writers']
    )
    assert 'mmgrounding.text.head_noun' not in graph['mmgrounding.text.wordnet']
    cycle = find_cycle(graph)
    assert cycle is None, 'import circle: ' + ' -> '.join(cycle)


# Runs in a fresh interpreter: the third-party packages the modules import at their top level
# are loaded once, then each package module is imported first thing in a fork of that process,
# in which no module of the package has been imported yet. Importing a module first imports its
# parent packages; when the parent's own import already loads the module, importing it first
# runs exactly the same code as importing the parent first, so it needs no fork of its own.
_ISOLATED_IMPORTS = textwrap.dedent("""
    import importlib, json, os, sys, traceback, warnings
    package, modules, preload = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    for name, attrs in preload:
        try:
            module = importlib.import_module(name)
            for attr in attrs:  # resolves lazy modules (transformers) once, here
                getattr(module, attr, None)
        except Exception:
            pass  # the child that needs it reports the error
    assert not any(m.split('.')[0] == package for m in sys.modules)

    def import_alone(module):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                warnings.simplefilter('ignore')
                importlib.import_module(module)
                report = dict(error='')
            except BaseException:
                report = dict(error=traceback.format_exc(limit=-3))
            report['loaded'] = sorted(m for m in sys.modules if m.split('.')[0] == package)
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read, 'rb') as pipe:
            data = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        if status or not data:
            return dict(error=f'exit status {status}', loaded=[])
        return json.loads(data)

    loaded, failures, forks = {}, {}, 0
    for module in sorted(modules, key=lambda m: (m.count('.'), m)):  # parents first
        parent = module.rpartition('.')[0]
        if parent in loaded and module in loaded[parent]:
            loaded[module] = loaded[parent]  # the same import as the parent's
            continue
        report = import_alone(module)
        forks += 1
        loaded[module] = set(report['loaded'])
        if report['error']:
            failures[module] = report['error']
    print(json.dumps(dict(failures=failures, forks=forks, modules=len(modules))))
""")


def _top_level_third_party(
    modules: dict[str, str], package: str = PACKAGE
) -> list[tuple[str, list[str]]]:
    """Third-party modules imported at the top level of the package's files, with the names
    taken from them, sorted."""
    names: dict[str, set[str]] = {}
    for path in modules.values():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names.setdefault(alias.name, set())
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.setdefault(node.module, set()).update(a.name for a in node.names)
    return sorted((n, sorted(a)) for n, a in names.items() if n.split('.')[0] != package)


def isolated_imports(root: str, package: str) -> dict:
    """Import every module of ``package`` (under ``root``) first thing in its own process.

    Returns:
        ``failures`` (module -> traceback), ``forks`` (processes started) and ``modules``.
    """
    import json

    modules = package_modules(root, package)
    env = dict(
        os.environ,
        PYTHONWARNINGS='ignore',
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join([root] + sys.path),
    )
    proc = subprocess.run(
        [
            sys.executable,
            '-c',
            _ISOLATED_IMPORTS,
            package,
            json.dumps(sorted(modules)),
            json.dumps(_top_level_third_party(modules, package)),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_isolated_imports_find_a_module_that_needs_another_imported_first(tmp_path):
    """The checker itself: ``pkg.c`` works only after someone imported ``pkg.a``, as it
    reads ``pkg.a`` off the package; ``pkg.b`` is imported by ``pkg`` itself."""
    pkg = tmp_path / 'pkg'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('from . import b\n')
    (pkg / 'a.py').write_text('X = 1\n')
    (pkg / 'b.py').write_text('Y = 2\n')
    (pkg / 'c.py').write_text('import pkg\nZ = pkg.a.X\n')
    result = isolated_imports(str(tmp_path), 'pkg')
    assert result['modules'] == 4
    assert result['forks'] == 3  # pkg, pkg.a, pkg.c; pkg.b comes with pkg
    assert list(result['failures']) == ['pkg.c']
    assert "has no attribute 'a'" in result['failures']['pkg.c']


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_each_module_imports_on_its_own():
    """Every module works as the first one of the package a program imports."""
    result = isolated_imports(REPO_ROOT, PACKAGE)
    assert result['modules'] == len(package_modules()) and result['forks'] >= 10
    failures = result['failures']
    assert not failures, '\n'.join(f'{m}:\n{msg}' for m, msg in failures.items())
