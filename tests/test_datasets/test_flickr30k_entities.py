"""Flickr30k Entities loader on small hand-written files in the official format."""
import os.path as osp

import pytest

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
    '[/EN#6/other A broken box] and [/EN#7/other an unannotated entity] .\n')


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
            sentences='flickr30k_entities/Sentences/'),
        pipeline=[],
        **kwargs)


def test_parse_sentence_line_spans_and_types():
    caption, phrases = parse_sentence_line(
        'A [/EN#12/people/other small boy] runs .', path='x.txt', line_no=1)
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
        'notvisual': 1, 'nobndbox': 3, 'scene': 1, 'invalid_box': 1,
        'caption_without_boxes': 2}


def test_invalid_box_can_raise_naming_file_and_entity(tmp_path):
    write_split(tmp_path)
    with pytest.raises(GroundingAnnotationError, match=r'100\.xml: entity 6: .*zero'):
        build(tmp_path, skip_invalid_boxes=False)


def test_malformed_xml_names_the_file(tmp_path):
    write_split(tmp_path, xml='<annotation><size>')
    with pytest.raises(GroundingAnnotationError, match=r'Annotations/100\.xml: malformed XML'):
        build(tmp_path)


def test_missing_sentence_file_names_it(tmp_path):
    write_split(tmp_path)
    (tmp_path / 'flickr30k_entities' / 'Sentences' / '100.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'Sentences/100\.txt'):
        build(tmp_path)


def test_unclosed_phrase_names_file_and_line(tmp_path):
    write_split(tmp_path, sentences='ok [/EN#1/people a man] .\n[/EN#1/people a man runs\n')
    with pytest.raises(GroundingAnnotationError, match=r'100\.txt:2: .*not closed'):
        build(tmp_path)


def test_missing_split_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='test.txt'):
        build(tmp_path)


def test_missing_image_file_is_named_when_loaded(tmp_path):
    from mmengine.dataset import Compose
    write_split(tmp_path)
    dataset = build(tmp_path)
    pipeline = Compose([dict(type='LoadImageFromFile'), dict(type='LoadGroundingAnnotations')])
    info = dataset.get_data_info(0)
    with pytest.raises(FileNotFoundError, match=r'flickr30k-images/100\.jpg'):
        pipeline(info)
