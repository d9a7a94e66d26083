"""mmgrounding: weakly supervised visual grounding for OpenMMLab (mmengine, mmdet)."""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'mmgrounding', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list[str]:
    """Requirement lines of ``fname``, without comments."""
    with open(osp.join(ROOT, fname)) as f:
        lines = [line.split('#', 1)[0].strip() for line in f]
    return [line for line in lines if line]


def add_mim_extension() -> None:
    """Put configs, tools and model-index under ``mmgrounding/.mim`` so that
    ``mim train mmgrounding CONFIG`` finds them (symlinks in develop mode, copies otherwise)."""
    if 'develop' in sys.argv or any(a.startswith('editable') for a in sys.argv):
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv or 'install' in sys.argv:
        mode = 'copy'
    else:
        return
    filenames = ['tools', 'configs', 'model-index.yml']
    mim_path = osp.join(ROOT, 'mmgrounding', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in filenames:
        src = osp.join(ROOT, filename)
        if not osp.exists(src):
            continue
        tar = osp.join(mim_path, filename)
        if osp.isfile(tar) or osp.islink(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_path), tar)
                continue
            except OSError:
                warnings.warn(f'failed to symlink {src}; copying instead')
        if osp.isfile(src):
            shutil.copyfile(src, tar)
        else:
            shutil.copytree(src, tar)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmgrounding',
        version=get_version(),
        description='Weakly supervised visual grounding toolbox on OpenMMLab',
        long_description=open(osp.join(ROOT, 'README.md'), encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        keywords='visual grounding, weak supervision, phrase grounding, referring expressions',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs', 'benchmarks')),
        include_package_data=True,
        package_data={'mmgrounding': ['.mim/**/*']},
        python_requires='>=3.11',  # tests/test_python_version.py
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'build': parse_requirements('requirements/build.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
