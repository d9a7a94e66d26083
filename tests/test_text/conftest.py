import pytest

from mmgrounding.text import get_wordnet


@pytest.fixture(scope='session', autouse=True)
def wordnet():
    """WordNet, loaded once; a missing WordNet is an error here, not a skip.

    ``make setup`` installs it (tools/setup_wordnet.sh). The tokenizer and the relation tests
    do not need it, but every other test of this folder does.
    """
    return get_wordnet()
