"""Every relative link of the docs, the lab notebook and the README names a file that exists."""

import glob
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LINK = re.compile(r'\]\(([^)\s]+)\)')


def broken_links(page: str) -> list[str]:
    """``'line: target'`` of every relative link of ``page`` whose file does not exist."""
    broken = []
    code = False
    with open(page, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if line.startswith('```'):
                code = not code
            if code:
                continue
            for match in LINK.finditer(line):
                target = match.group(1).split('#')[0]
                if not target or re.match(r'[a-z]+:', target):
                    continue  # an anchor of the page itself, a URL, mailto:
                if not osp.exists(osp.normpath(osp.join(osp.dirname(page), target))):
                    broken.append(f'{number}: {match.group(1)}')
    return broken


def test_broken_links_finds_a_missing_file(tmp_path):
    (tmp_path / 'there.md').write_text('x')
    page = tmp_path / 'page.md'
    page.write_text('[a](there.md#x) [b](missing.md) [c](#top) [d](https://x.org/y.md)\n')
    assert broken_links(str(page)) == ['1: missing.md']


def test_docs_links_resolve():
    pages = (
        glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True)
        + glob.glob(osp.join(REPO, 'notebook', '*.md'))
        + [osp.join(REPO, 'README.md')]
    )
    assert len(pages) > 10
    broken = [f'{osp.relpath(p, REPO)}:{b}' for p in sorted(pages) for b in broken_links(p)]
    assert not broken, 'links to missing files:\n' + '\n'.join(broken)
