"""No hand-typed result number in the docs (issue 16).

A result number on the README, ``docs/get_started.md``, ``docs/leaderboard.md``,
``docs/proposals.md``, ``docs/synthground.md`` and ``docs/methods/*.md`` is written by
``make leaderboard`` between ``results:`` markers (``tests/test_apis/test_results_tables.py``
checks that those blocks equal ``results/synthground.json``). Outside them a page may carry
numbers that are not SynthGround results: the papers' numbers (a line or a block whose first
line says "paper" or "official"), hyperparameters, counts, and the sections whose heading
says what they are:

- "Step time", "Throughput", "Benchmark", "Speed": the output of a ``benchmarks/`` script it
  names (a measurement of a machine, not a result);
- "Paper ...": the papers' numbers;
- "Requirements": library and Python versions.

What was measured once while a method was built (the recipe searches, the probes, mostly on
the v1 build) is its lab notebook, ``notebook/<method>.md``, outside ``docs/`` and not
regenerated; no results page cites it for a number.

A typed result is a decimal with two digits of at least 1 (``57.66``, ``2.04``) or a
``mean ± std``; code blocks are commands and are skipped.
"""

import glob
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = [
    'README.md',
    'docs/get_started.md',
    'docs/leaderboard.md',
    'docs/proposals.md',
    'docs/synthground.md',
] + sorted(
    osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'docs', 'methods', '*.md'))
)
EXEMPT_SECTIONS = re.compile(r'#+ (Step time|Throughput|Benchmark|Speed|Paper|Requirements)')
DECIMAL = re.compile(r'(?<![\w.])\d+\.\d{2}(?!\d)')
CITATION = re.compile(r'paper|official', re.IGNORECASE)
VERSION = re.compile(
    r'(torch|mmcv|mmdet|mmengine|transformers|Python|numpy|release)( |==)\d+\.\d+(\.\d+)?'
)


def typed_results(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of every line of ``text`` with a typed result number."""
    found = []
    generated = code = False
    exempt_level = None  # heading level of the exempt section we are in
    block_cited = False  # the current paragraph or table starts with a citation
    previous = ''
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith('```'):
            code = not code
            continue
        if code:
            continue
        if line.startswith('<!-- results:begin'):
            generated = True
            continue
        if generated:
            generated = not line.startswith('<!-- results:end')
            continue
        heading = re.match(r'(#+) ', line)
        if heading:
            level = len(heading.group(1))
            if exempt_level is not None and level <= exempt_level:
                exempt_level = None
            if exempt_level is None and EXEMPT_SECTIONS.match(line):
                exempt_level = level
            previous = line
            continue
        if not line.strip():
            block_cited = False
        elif not previous.strip() or previous.startswith('#'):
            # a block's first line (a heading right above counts as its first line)
            block_cited = bool(CITATION.search(line) or CITATION.search(previous))
        previous = line
        if exempt_level is not None or block_cited or CITATION.search(line):
            continue
        line = VERSION.sub('', line)
        if any(float(m.group()) >= 1 for m in DECIMAL.finditer(line)) or re.search(
            r'\d ± \d', line
        ):
            found.append((number, text.splitlines()[number - 1]))
    return found


def test_the_scanner_finds_typed_results_and_leaves_the_rest():
    page = '\n'.join(
        [
            '# Page',
            'AMC points at 57.66 on test.',  # 2: typed
            'The paper reports 86.59.',  # cited
            '',
            'Paper, top-1 accuracy:',  # a cited block: its lines too
            '| 54.78 | 61.78 |',
            '',
            'weight decay 0.02, lr 1e-5, 900 steps, σ = 0.5 on torch 2.13',  # not results
            '## Paper numbers',  # a heading that cites: its first block is cited
            '| 51.67 | 76.74 |',
            '<!-- results:begin t -->',
            '| AMC | 60.75 ± 1.33 |',
            '<!-- results:end t -->',
            '```bash',
            'python train.py --cfg-options a=12.50',
            '```',
            '## Step time',  # a benchmark's output, with its command
            'AMC step 0.81x official, 11.08 s',
            '### an entry',
            'also 13.31 s',
            '## Development notes',  # no longer exempt: the lab notebook is outside docs/
            'v1: 28.16',  # 22: typed
            '## Tests',
            'gALBEF 30.04 ± 2.09 after the notes',  # 24: typed
        ]
    )
    assert [n for n, _ in typed_results(page)] == [2, 22, 24]


def test_results_pages_type_no_result_number():
    offending = []
    for page in PAGES:
        with open(osp.join(REPO, page), encoding='utf-8') as f:
            text = f.read()
        offending += [f'{page}:{n}: {line.strip()[:100]}' for n, line in typed_results(text)]
    assert not offending, (
        'hand-typed result numbers (generate them with make leaderboard, cite the paper, or '
        'move a measurement made once to the lab notebook, notebook/<method>.md):\n'
        + '\n'.join(offending)
    )
