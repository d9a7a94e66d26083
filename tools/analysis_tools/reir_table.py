"""Mean ± std over seeds of ReIR runs: ``<root>/<row>-s<seed>/metrics.json`` -> a Markdown table.

python tools/analysis_tools/reir_table.py [work_dirs/reir]
"""

import glob
import json
import re
import sys

import numpy as np

KEYS = [
    'reir/fused/union/acc@0.5',
    'reir/fused/any/acc@0.5',
    'reir/fused/any/acc@0.7',
    'reir/fused/any/miou',
    'reir/stage1/any/acc@0.5',
    'reir/stage2/any/acc@0.5',
    'reir/fused/union/pointit',
]
runs = {}
root = (sys.argv[1] if len(sys.argv) > 1 else 'work_dirs/reir').rstrip('/')
for path in sorted(glob.glob(f'{root}/*-s[0-9]/metrics.json')):
    row, seed = re.match(r'.*/(.+)-s(\d)/metrics.json$', path).groups()
    runs.setdefault(row, {})[int(seed)] = json.load(open(path))
print('| row | seeds | ' + ' | '.join(k.replace('reir/', '') for k in KEYS) + ' |')
for row, seeds in runs.items():
    cells = []
    for k in KEYS:
        v = np.array([seeds[s][k] for s in sorted(seeds)])
        cells.append(f'{v.mean():.2f} ± {v.std():.2f}')
    print(f'| {row} | {",".join(map(str, sorted(seeds)))} | ' + ' | '.join(cells) + ' |')
for row, seeds in runs.items():
    print(row, {s: round(seeds[s]['reir/fused/union/acc@0.5'], 2) for s in sorted(seeds)})
