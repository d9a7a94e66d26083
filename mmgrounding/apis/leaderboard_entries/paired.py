"""The paired comparisons of the method pages (see mmgrounding/apis/paired_tables.py).

Each :class:`PairedDiffTable` names two rows of the registry per line, by experiment name,
and the split and metric its page compares them on: seed by seed, ``a − b``. The rows are
those of the page's own generated tables; the comparisons are the ones the page's text
discusses, so the text can point at a table instead of typing a difference.
"""

from ..evaluation_runs import amp_split
from ..paired_tables import PairedDiffTable

FLICKR = 'Flickr30k'
POINTING = 'pointing/accuracy'

CKD = PairedDiffTable(
    'ckd-table4-paired',
    'docs/methods/ckd.md',
    FLICKR,
    'box_recall/R@1',
    (
        ('NCE + Distill − NCE', 'ckd-nce-distill', 'ckd-nce'),
        ('NCE + Distill − Distill', 'ckd-nce-distill', 'ckd-distill'),
        ('NCE − Distill', 'ckd-nce', 'ckd-distill'),
        ('Max Margin − NCE', 'ckd-max-margin', 'ckd-nce'),
        ('Max Margin − NCE + Distill', 'ckd-max-margin', 'ckd-nce-distill'),
        ('NCE + Distill: b = 3 − b = 1', 'ckd-nce-distill-b3', 'ckd-nce-distill'),
        ('NCE + Distill, b = 3 − NCE', 'ckd-nce-distill-b3', 'ckd-nce'),
    ),
    row_header='R@1, Table 4 rows',
)

# the comparisons of docs/methods/reir.md ("What the tables say"), on val (where rows are
# compared and recipes chosen) and on test (reported)
REIR_PAIRS = (
    ('+ TSD − baseline', 'reir-tsd', 'reir-baseline'),
    ('+ TSD + STR − + TSD', 'reir-tsd-str', 'reir-tsd'),
    ('+ TSD + STR without x_q − + TSD', 'reir-tsd-str-noq', 'reir-tsd'),
    ('+ TSD + VOGN & RC − + TSD', 'reir-tsd-vogn-rc', 'reir-tsd'),
    ('full − + TSD + STR', 'reir', 'reir-tsd-str'),
    ('full − baseline', 'reir', 'reir-baseline'),
    ('uniform ω − full (learned ω)', 'reir-uniform', 'reir'),
    ('K = 3 − K = 5 (full)', 'reir-k3', 'reir'),
    ('K = 3 − K = 10', 'reir-k3', 'reir-k10'),
)
REIR_ACC = 'reir/fused/union/acc@0.5'
REIR = tuple(
    PairedDiffTable(
        f'reir-paired-{tag}',
        'docs/methods/reir.md',
        split,
        REIR_ACC,
        REIR_PAIRS,
        row_header=f'Acc ({tag}), Tables 2 and 3 rows',
    )
    for tag, split in (('val', 'Flickr30k val'), ('test', FLICKR))
)

CAMWSVG = PairedDiffTable(
    'camwsvg-table3-paired',
    'docs/methods/camwsvg.md',
    FLICKR,
    'camwsvg_box/R@1',
    (
        ('CAM encoder + AM − CAM encoder', 'camwsvg', 'camwsvg-cam-no-am'),
        ('CAM encoder − no CAM encoder, no AM', 'camwsvg-cam-no-am', 'camwsvg-no-cam'),
        ('CAM encoder + AM − no CAM encoder, no AM', 'camwsvg', 'camwsvg-no-cam'),
    ),
    row_header='Acc (test), Table 3 rows',
)

# issue 17's comparison: what SelfEQ's fine-tune gains over the same fine-tune without its
# losses, and how far it stays from AMC's (with boxes)
SELFEQ = PairedDiffTable(
    'selfeq-paired',
    'docs/methods/selfeq.md',
    FLICKR,
    POINTING,
    (
        ('SelfEQ − gALBEF, fine-tuned', 'selfeq-ft', 'galbef-ft'),
        ('SelfEQ − AMC, fine-tuned (boxes)', 'selfeq-ft', 'amc-ft'),
    ),
    row_header='pointing (test)',
)

INFOGROUND = PairedDiffTable(
    'infoground-table2-paired',
    'docs/methods/infoground.md',
    FLICKR,
    POINTING,
    (
        ('reranked − no negatives', 'infoground-reranked', 'infoground-no-negatives'),
        ('reranked − random negatives', 'infoground-reranked', 'infoground-random'),
    ),
    row_header='pointing, Table 2 rows',
)

# mixed precision (docs/methods/amc.md, "Training and testing with --amp"): the AMC recipe
# trained with --amp against the same recipe in float32, seed by seed, both tested in float32
# and both tested under autocast
AMC_AMP = tuple(
    PairedDiffTable(
        name,
        'docs/methods/amc.md',
        split,
        POINTING,
        ((f'--amp training − float32 training, {tested}', 'amc-amp', 'amc'),),
        row_header='pointing (test)',
    )
    for name, split, tested in (
        ('amc-amp-paired', FLICKR, 'tested in float32'),
        ('amc-amp-paired-autocast', amp_split(FLICKR), 'tested under autocast'),
    )
)

PAIRED_TABLES = (CKD, *REIR, CAMWSVG, SELFEQ, INFOGROUND, *AMC_AMP)
