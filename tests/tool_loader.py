"""Import a script of tools/ or benchmarks/ (not a package) as a module, for its tests."""

import importlib.util
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path: str, name: str | None = None):
    """The module of ``path`` (relative to the repository, e.g. ``'tools/demo.py'``), executed
    afresh: a test may patch its globals without touching another test's copy."""
    name = name or osp.splitext(osp.basename(path))[0] + '_under_test'
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
