"""results_tables.ablation_table: the columns of a method page's ablation table, in order."""

import pytest

from mmgrounding.apis.results_tables import Column, ablation_table


def test_columns_are_paper_val_test_then_per_seed():
    table = ablation_table(
        'toy-ablation',
        'docs/toy.md',
        row_header='row',
        val_split='V',
        test_split='T',
        paper='paper Acc',
        val={'Acc (val)': 'acc'},
        test={'Acc (test)': 'acc', 'mIoU (test)': 'miou'},
        per_seed={'Acc per seed': 'acc'},
    )
    assert table.columns == (
        Column('paper Acc', kind='paper'),
        Column('Acc (val)', 'V', 'acc'),
        Column('Acc (test)', 'T', 'acc'),
        Column('mIoU (test)', 'T', 'miou'),
        Column('Acc per seed', 'T', 'acc', kind='seeds'),
    )
    assert (table.name, table.doc, table.row_header) == ('toy-ablation', 'docs/toy.md', 'row')
    assert table.splits == ['V', 'T']


def test_a_table_without_columns_is_an_error():
    with pytest.raises(ValueError, match='no column'):
        ablation_table('empty', 'docs/toy.md', row_header='row', val_split='V', test_split='T')
