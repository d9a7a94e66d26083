"""Counts of a grounding dataset: images, queries, phrases, boxes (per phrase type), skips."""

from collections import Counter

from mmgrounding.text.relation_vocab import caption_relations


def dataset_stats(dataset) -> dict:
    """Counts over a dataset's data list (no image is read).

    ``queries`` is the number of items (a caption, a referring sentence, a triplet; an image
    for caption datasets grouped by image), ``phrases`` the grounded phrases in them.
    ``relation_degrees`` counts the phrases of captioned items by how many of the caption's
    other phrases a relation links them to (ReIR's visual object graph, one edge per pair of
    consecutive phrases with words between them: ``mmgrounding.text.relation_phrases``); a
    graph whose nodes all have at most one neighbour gives learned and uniform edge weights
    the same softmax. ``skipped``: the loader's ``skip_counts`` (records it dropped, by reason),
    empty for a dataset that counts none.
    """
    images, phrases, boxes = set(), 0, 0
    degrees: Counter = Counter()
    by_type: Counter = Counter()
    boxes_by_type: Counter = Counter()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        images.add(info['img_id'])
        spans = [p.get('span') for p in info.get('phrases', [])]
        if info.get('caption') and spans and all(span is not None for span in spans):
            linked: Counter = Counter()
            for i, j, _ in caption_relations(info['caption'], spans):
                linked[i] += 1
                linked[j] += 1
            degrees.update(linked[k] for k in range(len(spans)))
        for phrase in info.get('phrases', []):
            phrases += 1
            num_boxes = len(phrase.get('boxes_xyxy', []))
            boxes += num_boxes
            for phrase_type in phrase.get('types') or ['(none)']:
                by_type[phrase_type] += 1
                boxes_by_type[phrase_type] += num_boxes
    return dict(images=len(images), queries=len(dataset), phrases=phrases, boxes=boxes,
                phrases_per_type=dict(sorted(by_type.items())),
                boxes_per_type=dict(sorted(boxes_by_type.items())),
                relation_degrees=dict(sorted(degrees.items())),
                skipped=dict(sorted(getattr(dataset, 'skip_counts', {}).items())))
