"""``mmgrounding.models.groundingers`` (the name before 0.2) still imports, warns and is the
very same code as ``mmgrounding.models.grounders``."""

import json
import subprocess
import sys

# the submodules the package had when it was renamed
OLD_SUBMODULES = ('albef', 'base', 'baselines', 'ckd', 'infoground', 'utils', 'word_batch')

# A fresh interpreter: the warning is raised once per process, on the first import.
_CHECK = """
import importlib, json, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    import mmgrounding.models.groundingers as old
    from mmgrounding.models.groundingers.albef import ALBEFGrounder as OldALBEF
import mmgrounding.models.grounders as new
from mmgrounding.models.grounders.albef import ALBEFGrounder
from mmgrounding.registry import MODELS

subs = json.loads(sys.argv[1])
print(json.dumps({
    'warnings': [(w.category.__name__, str(w.message)) for w in caught
                 if 'groundingers' in str(w.message)],
    'same_submodules': {name: importlib.import_module(f'mmgrounding.models.groundingers.{name}')
                        is importlib.import_module(f'mmgrounding.models.grounders.{name}')
                        for name in subs},
    'same_names': {name: getattr(old, name) is getattr(new, name) for name in new.__all__},
    'all': sorted(old.__all__) == sorted(new.__all__),
    'class': OldALBEF is ALBEFGrounder and MODELS.get('ALBEFGrounder') is OldALBEF,
}))
"""


def test_old_package_name_is_an_alias_that_warns():
    proc = subprocess.run(
        [sys.executable, '-c', _CHECK, json.dumps(OLD_SUBMODULES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [w[0] for w in result['warnings']] == ['DeprecationWarning']
    assert 'mmgrounding.models.grounders' in result['warnings'][0][1]
    assert result['same_submodules'] == {name: True for name in OLD_SUBMODULES}
    assert result['same_names'] and all(result['same_names'].values())
    assert result['all'] and result['class']
