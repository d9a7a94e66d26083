"""Flickr30k Entities loader on small hand-written files in the official format."""

import os.path as osp

import pytest
from mmengine.dataset import Compose

from mmgrounding.datasets import Flickr30kEntitiesDataset, GroundingAnnotationError
from mmgrounding.datasets.flickr30k_entities import parse_sentence_line

XML = """<annotation>
<filename>{img_id}.jpg</filename>
<size><width>100</width><height>80</height><depth>3</depth></size>
<object><name>1</name><bndbox><xmin>11</xmin><ymin>21</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>
<object><name>1</name><bndbox><xmin>51</xmin><ymin>1</ymin><xmax>60</xmax><ymax>10</ymax></bndbox></object>
<object><name>2</name><name>3</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>80</ymax></bndbox></object>
<object><name>4</name><nobndbox>1</nobndbox><scene>0</scene></object>
<object><name>5</name><nobndbox>0</nobndbox><scene>1</scene></object>
<object><name>6</name><bndbox><xmin>20</xmin><ymin>20</ymin><xmax>19</xmax><ymax>30</ymax></bndbox></object>
</annotation>
"""
SENTENCES = (
    '[/EN#1/people Two men] in [/EN#2/clothing/other shirts] stand near [/EN#3/scene a wall] .\n'
    '[/EN#0/notvisual It] is [/EN#4/other a hidden cat] in [/EN#5/scene the park] .\n'
    '[/EN#6/other A broken box] and [/EN#7/other an unannotated entity] .\n'
)


def write_split(root, img_ids=('100',), xml=XML, sentences=SENTENCES):
    ann_dir = root / 'flickr30k_entities' / 'Annotations'
    sen_dir = root / 'flickr30k_entities' / 'Sentences'
    ann_dir.mkdir(parents=True, exist_ok=True)
    sen_dir.mkdir(parents=True, exist_ok=True)
    for img_id in img_ids:
        (ann_dir / f'{img_id}.xml').write_text(xml.format(img_id=img_id))
        (sen_dir / f'{img_id}.txt').write_text(sentences)
    (root / 'flickr30k_entities' / 'test.txt').write_text('\n'.join(img_ids) + '\n')


def build(root, **kwargs):
    return Flickr30kEntitiesDataset(
        data_root=str(root),
        ann_file='flickr30k_entities/test.txt',
        data_prefix=dict(
            img='flickr30k-images/',
            annotations='flickr30k_entities/Annotations/',
            sentences='flickr30k_entities/Sentences/',
        ),
        pipeline=[],
        **kwargs,
    )


def test_parse_sentence_line_spans_and_types():
    caption, phrases = parse_sentence_line(
        'A [/EN#12/people/other small boy] runs .', path='x.txt', line_no=1
    )
    assert caption == 'A small boy runs .'
    assert phrases == [
        dict(text='small boy', span=(2, 11), entity_id='12', types=['people', 'other'])
    ]
    assert caption[2:11] == 'small boy'


def test_loads_boxes_types_and_skips(tmp_path):
    write_split(tmp_path)
    dataset = build(tmp_path)
    # caption 1 keeps its three phrases; caption 2 has only skipped entities (notvisual,
    # nobndbox, scene); caption 3 has a degenerate box (skipped) and an entity missing from
    # the XML (nobndbox): both captions are dropped.
    assert len(dataset) == 1
    info = dataset[0]
    assert info['caption'] == 'Two men in shirts stand near a wall .'
    assert info['img_path'] == osp.join(str(tmp_path), 'flickr30k-images', '100.jpg')
    men, shirts, wall = info['phrases']
    # 1-based inclusive [11, 21, 30, 40] -> 0-based continuous [10, 20, 30, 40]
    assert men['boxes_xyxy'] == [[10.0, 20.0, 30.0, 40.0], [50.0, 0.0, 60.0, 10.0]]
    assert shirts['types'] == ['clothing', 'other']
    # one <object> with two <name>s gives its box to both entities
    assert shirts['boxes_xyxy'] == wall['boxes_xyxy'] == [[0.0, 0.0, 100.0, 80.0]]
    assert dataset.skip_counts == {
        'notvisual': 1,
        'nobndbox': 3,
        'scene': 1,
        'invalid_box': 1,
        'caption_without_boxes': 2,
    }


# ----------------------------------------------------------------------------------------
# Bad input (issue 3, item 8): one test per case. An image 100x80 with entities 1 and 2.
def small_xml(box_2='<xmin>51</xmin><ymin>1</ymin><xmax>100</xmax><ymax>80</ymax>'):
    return (
        '<annotation><filename>100.jpg</filename>'
        '<size><width>100</width><height>80</height><depth>3</depth></size>'
        '<object><name>1</name><bndbox><xmin>11</xmin><ymin>21</ymin><xmax>30</xmax>'
        '<ymax>40</ymax></bndbox></object>'
        f'<object><name>2</name><bndbox>{box_2}</bndbox></object></annotation>\n'
    )


TWO_PHRASES = '[/EN#1/people A man] and [/EN#2/other a box] .\n'


@pytest.mark.parametrize(
    'xml,message',
    [
        (small_xml()[:120], r'100\.xml: malformed XML'),  # truncated file
        (
            '<annotation><object><name>1</name></object></annotation>',
            r'100\.xml: missing or invalid <size>',
        ),
        (
            small_xml('<xmin>1</xmin><ymin>1</ymin><xmax>ten</xmax><ymax>9</ymax>'),
            r'100\.xml: <object> #1 \(2\) has an invalid <bndbox>',
        ),
        (small_xml().replace('<name>2</name>', ''), r'100\.xml: <object> #1 has no <name>'),
    ],
)
def test_bad_malformed_xml_names_file_and_object(tmp_path, xml, message):
    write_split(tmp_path, xml=xml, sentences=TWO_PHRASES)
    with pytest.raises(GroundingAnnotationError, match=r'Annotations/' + message):
        build(tmp_path)


def test_bad_missing_image_file(tmp_path, log_messages):
    write_split(tmp_path, img_ids=('100', '200'), xml=small_xml(), sentences=TWO_PHRASES * 2)
    (tmp_path / 'flickr30k-images').mkdir()
    (tmp_path / 'flickr30k-images' / '200.jpg').write_bytes(b'')  # exists; 100.jpg does not
    # default: not checked at load time; LoadImageFromFile names the file when it is read
    dataset = build(tmp_path)
    assert len(dataset) == 4
    with pytest.raises(FileNotFoundError, match=r'flickr30k-images/100\.jpg'):
        Compose([dict(type='LoadImageFromFile')])(dataset.get_data_info(0))
    # 'raise': the image file and the record (image id, split file) at load time
    with pytest.raises(
        GroundingAnnotationError,
        match=r'test\.txt: image 100: image file .*flickr30k-images/100\.jpg '
        'does not exist',
    ):
        build(tmp_path, missing_images='raise')
    # 'skip': both captions of image 100 are dropped, counted and logged
    dataset = build(tmp_path, missing_images='skip')
    assert [d['img_id'] for d in dataset] == ['200', '200']
    assert dataset.skip_counts == {'missing_image': 2}
    assert any(
        m.startswith('1 missing images, 2 items skipped; first: ') and '100.jpg' in m
        for m in log_messages
    )
    assert any("skipped: {'missing_image': 2}" in m for m in log_messages)
    with pytest.raises(ValueError, match='missing_images'):
        build(tmp_path, missing_images='warn')


def test_bad_box_outside_the_image(tmp_path, log_messages):
    # <bndbox> 51..150 (1-based) -> [50, 0, 150, 80]: x2 = 150 > 100 + 1 px of tolerance
    write_split(
        tmp_path,
        sentences=TWO_PHRASES,
        xml=small_xml('<xmin>51</xmin><ymin>1</ymin><xmax>150</xmax><ymax>80</ymax>'),
    )
    dataset = build(tmp_path)
    (info,) = dataset
    assert [p['text'] for p in info['phrases']] == ['A man']
    # the box is dropped, and entity 2, left without a box, too
    assert dataset.skip_counts == {'invalid_box': 1, 'nobndbox': 1}
    assert any("skipped: {'invalid_box': 1, 'nobndbox': 1}" in m for m in log_messages)
    with pytest.raises(
        GroundingAnnotationError,
        match=r'Annotations/100\.xml: entity 2: box \[50\.0, 0\.0, 150\.0, 80\.0\] '
        r'lies outside the 100x80 image',
    ):
        build(tmp_path, skip_invalid_boxes=False)
    # a box reaching the border exactly (xmax = width, 1-based inclusive) is inside
    write_split(tmp_path, sentences=TWO_PHRASES, xml=small_xml())
    assert build(tmp_path)[0]['phrases'][1]['boxes_xyxy'] == [[50.0, 0.0, 100.0, 80.0]]


def test_bad_box_of_zero_area(tmp_path, log_messages):
    # <bndbox> xmin 20, xmax 19 -> [19, 0, 19, 10]: zero width
    write_split(
        tmp_path,
        sentences=TWO_PHRASES,
        xml=small_xml('<xmin>20</xmin><ymin>1</ymin><xmax>19</xmax><ymax>10</ymax>'),
    )
    dataset = build(tmp_path)
    assert [p['text'] for p in dataset[0]['phrases']] == ['A man']
    assert dataset.skip_counts == {'invalid_box': 1, 'nobndbox': 1}
    assert any("'invalid_box': 1" in m for m in log_messages)
    with pytest.raises(
        GroundingAnnotationError,
        match=r'100\.xml: entity 2: box \[19\.0, 0\.0, 19\.0, 10\.0\] has zero',
    ):
        build(tmp_path, skip_invalid_boxes=False)


def test_bad_empty_caption(tmp_path, log_messages):
    # lines 2 and 3 are empty; the final newline is not a caption
    write_split(tmp_path, xml=small_xml(), sentences=TWO_PHRASES + '\n   \n' + TWO_PHRASES)
    dataset = build(tmp_path)
    assert [d['caption_id'] for d in dataset] == [0, 3]
    assert dataset.skip_counts == {'empty_caption': 2}
    assert any("skipped: {'empty_caption': 2}" in m for m in log_messages)


def test_bad_phrase_without_box(tmp_path, log_messages):
    # entity 3 is not in the XML; entity 4 is marked <nobndbox>: both phrases are dropped,
    # the caption keeps entity 1; a caption with only box-less phrases is dropped
    xml = small_xml().replace(
        '</annotation>', '<object><name>4</name><nobndbox>1</nobndbox></object></annotation>'
    )
    write_split(
        tmp_path,
        xml=xml,
        sentences='[/EN#1/people A man] , [/EN#3/other a cat] and [/EN#4/other a dog] .\n'
        '[/EN#3/other A cat] .\n',
    )
    dataset = build(tmp_path)
    (info,) = dataset
    assert [p['entity_id'] for p in info['phrases']] == ['1']
    assert dataset.skip_counts == {'nobndbox': 3, 'caption_without_boxes': 1}
    assert any("'nobndbox': 3" in m for m in log_messages)


def test_bad_unknown_split_lists_the_split_files(tmp_path):
    write_split(tmp_path, xml=small_xml(), sentences=TWO_PHRASES)  # writes test.txt only
    (tmp_path / 'flickr30k_entities' / 'train.txt').write_text('100\n')
    with pytest.raises(
        FileNotFoundError,
        match=r'split file .*flickr30k_entities/tset\.txt does not exist; '
        r'.*flickr30k_entities holds: test\.txt, train\.txt',
    ):
        Flickr30kEntitiesDataset(data_root=str(tmp_path), ann_file='flickr30k_entities/tset.txt')


def test_missing_sentence_file_names_it_and_the_split_line(tmp_path):
    write_split(tmp_path)
    (tmp_path / 'flickr30k_entities' / 'Sentences' / '100.txt').unlink()
    with pytest.raises(
        FileNotFoundError, match=r'Sentences/100\.txt is missing \(image 100, line 1 of .*test\.txt'
    ):
        build(tmp_path)


def test_unclosed_phrase_names_file_and_line(tmp_path):
    write_split(tmp_path, sentences='ok [/EN#1/people a man] .\n[/EN#1/people a man runs\n')
    with pytest.raises(GroundingAnnotationError, match=r'100\.txt:2: .*not closed'):
        build(tmp_path)


# An image in the layout of the distributed files (tab-indented, one <object> per box or
# flag): entity 3 ("the street") is flagged <scene>1</scene> by one <object> and has a box in
# another; entity 4 ("the outdoors") is flagged scene and has no box.
REAL_FORMAT_XML = """<annotation>
\t<filename>36979.jpg</filename>
\t<size>
\t\t<width>500</width>
\t\t<height>333</height>
\t\t<depth>3</depth>
\t</size>
\t<object>
\t\t<name>1</name>
\t\t<bndbox>
\t\t\t<xmin>101</xmin>
\t\t\t<ymin>51</ymin>
\t\t\t<xmax>200</xmax>
\t\t\t<ymax>300</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>3</name>
\t\t<nobndbox>0</nobndbox>
\t\t<scene>1</scene>
\t</object>
\t<object>
\t\t<name>3</name>
\t\t<bndbox>
\t\t\t<xmin>1</xmin>
\t\t\t<ymin>201</ymin>
\t\t\t<xmax>500</xmax>
\t\t\t<ymax>333</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>4</name>
\t\t<nobndbox>0</nobndbox>
\t\t<scene>1</scene>
\t</object>
</annotation>
"""
REAL_FORMAT_SENTENCES = (
    '[/EN#1/people A woman] walks down [/EN#3/scene the street] .\n'
    '[/EN#1/people A person] is in [/EN#4/scene the outdoors] .\n'
)


def test_scene_flagged_entity_with_boxes_is_grounded(tmp_path, log_messages):
    write_split(tmp_path, img_ids=('36979',), xml=REAL_FORMAT_XML, sentences=REAL_FORMAT_SENTENCES)
    dataset = build(tmp_path)
    first, second = dataset
    # caption 1: both phrases; "the street" keeps its box [1..500] x [201..333] (1-based)
    assert [p['text'] for p in first['phrases']] == ['A woman', 'the street']
    assert first['phrases'][1]['boxes_xyxy'] == [[0.0, 200.0, 500.0, 333.0]]
    # caption 2: "the outdoors" has no box at all and is skipped as a scene
    assert [p['text'] for p in second['phrases']] == ['A person']
    assert dataset.skip_counts == {'scene': 1}
    assert dataset.flagged_kept == {'scene': 1}
    # 3 of the 4 phrases are evaluated, as the official evaluation (phrase id among the
    # XML's boxes) counts them
    assert sum(len(d['phrases']) for d in dataset) == 3
    assert any(
        "grounded against their boxes although flagged: {'scene': 1}" in m for m in log_messages
    )


def test_global_caption_ids_and_the_coco_captions_converter(tmp_path):
    import importlib.util
    import json

    write_split(tmp_path, img_ids=('36979',), xml=REAL_FORMAT_XML, sentences=REAL_FORMAT_SENTENCES)
    assert [d['caption_id'] for d in build(tmp_path)] == [0, 1]
    # global: image id * 100 + line, unique over the dataset
    assert [d['caption_id'] for d in build(tmp_path, caption_ids='global')] == [3697900, 3697901]
    with pytest.raises(ValueError, match='caption_ids'):
        build(tmp_path, caption_ids='unique')
    # the converter writes the same ids, for generate_negatives.py / cache_word_features.py
    (tmp_path / 'flickr30k_entities' / 'train.txt').write_text('36979\n')
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    path = osp.join(repo, 'tools', 'dataset_converters', 'flickr30k_to_coco_captions.py')
    spec = importlib.util.spec_from_file_location('flickr30k_to_coco_captions', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / 'captions_train.json'
    module.main([str(tmp_path), '--split', 'train', '--out', str(out)])
    written = json.loads(out.read_text())
    assert written['annotations'] == [
        dict(id=3697900, image_id=36979, caption='A woman walks down the street .'),
        dict(id=3697901, image_id=36979, caption='A person is in the outdoors .'),
    ]
    assert written['images'] == [dict(id=36979, file_name='36979.jpg')]


def test_parse_sentence_line_odd_brackets_as_the_official_parser():
    # As get_sentence_data (BryanPlummer/flickr30k_entities): inside an open phrase a token
    # starting with '[' is a word, the first token ending with ']' closes the phrase, and a
    # ']' token outside a phrase is a plain word. Expected values written by hand.
    caption, phrases = parse_sentence_line(
        '[/EN#1/people the [/EN#2/other hat] man] waves [/EN#3/bodyparts/people his hand] .',
        path='x.txt',
        line_no=1,
    )
    assert caption == 'the [/EN#2/other hat man] waves his hand .'
    assert phrases == [
        dict(text='the [/EN#2/other hat', span=(0, 20), entity_id='1', types=['people']),
        dict(text='his hand', span=(32, 40), entity_id='3', types=['bodyparts', 'people']),
    ]
    assert caption[0:20] == 'the [/EN#2/other hat' and caption[32:40] == 'his hand'
