"""The v2 preset's object categories: pictogram glyphs under a WordNet noun hierarchy.

Every category is drawn from one glyph of the Symbola font (see :mod:`.pictograms`) and named
by the WordNet synsets of its hypernym chain, from its own synset up to its supercategory:
a poodle is ``poodle.n.01 -> dog.n.01 -> animal.n.01``, so a caption may call it "a
poodle", "a dog" or "the animal". Every synset of a chain is in the WordNet hypernym closure
of the one before it (the tests check this against nltk's WordNet when it is installed).

The tables are plain data; nothing here needs the font.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Noun:
    """One English name of a concept: singular and plural words (``('fire', 'engine')``)."""

    singular: Tuple[str, ...]
    plural: Tuple[str, ...]


def _nouns(*names: str) -> Tuple[Noun, ...]:
    """``'bus/buses'`` -> Noun(('bus',), ('buses',)); a name without ``/`` adds an ``s``."""
    nouns = []
    for name in names:
        singular, _, plural = name.partition('/')
        nouns.append(Noun(tuple(singular.split()), tuple((plural or singular + 's').split())))
    return tuple(nouns)


# WordNet synset -> its names, the first being the usual one. Words are plain lower-case ASCII.
CONCEPT_NOUNS: Dict[str, Tuple[Noun, ...]] = {
    # supercategories
    'animal.n.01': _nouns('animal'),
    'vehicle.n.01': _nouns('vehicle'),
    'fruit.n.01': _nouns('fruit/fruits'),
    'musical_instrument.n.01': _nouns('instrument', 'musical instrument'),
    'tool.n.01': _nouns('tool'),
    'clothing.n.01': _nouns('article of clothing/articles of clothing'),
    'plant.n.02': _nouns('plant'),
    # intermediate (basic-level) concepts that are also categories or parents
    'dog.n.01': _nouns('dog'),
    'bird.n.01': _nouns('bird'),
    'car.n.01': _nouns('car', 'automobile'),
    'truck.n.01': _nouns('truck'),
    'hat.n.01': _nouns('hat'),
    'shirt.n.01': _nouns('shirt'),
    'tree.n.01': _nouns('tree'),
    'flower.n.01': _nouns('flower'),
    # animals
    'poodle.n.01': _nouns('poodle'),
    'cat.n.01': _nouns('cat'),
    'horse.n.01': _nouns('horse'),
    'cow.n.01': _nouns('cow'),
    'hog.n.03': _nouns('pig', 'hog'),
    'sheep.n.01': _nouns('sheep/sheep'),
    'cock.n.04': _nouns('rooster'),
    'elephant.n.01': _nouns('elephant'),
    'rabbit.n.01': _nouns('rabbit'),
    'mouse.n.01': _nouns('mouse/mice'),
    'camel.n.01': _nouns('camel'),
    # vehicles
    'cab.n.03': _nouns('taxi', 'cab'),
    'ambulance.n.01': _nouns('ambulance'),
    'cruiser.n.01': _nouns('police car'),
    'bicycle.n.01': _nouns('bicycle'),
    'locomotive.n.01': _nouns('locomotive'),
    'airplane.n.01': _nouns('airplane', 'plane'),
    'helicopter.n.01': _nouns('helicopter'),
    'ship.n.01': _nouns('ship'),
    'sailboat.n.01': _nouns('sailboat'),
    'tractor.n.01': _nouns('tractor'),
    'fire_engine.n.01': _nouns('fire engine', 'fire truck'),
    'motorcycle.n.01': _nouns('motorcycle'),
    # fruit
    'apple.n.01': _nouns('apple'),
    'pear.n.01': _nouns('pear'),
    'banana.n.02': _nouns('banana'),
    'lemon.n.01': _nouns('lemon'),
    'cherry.n.03': _nouns('cherry/cherries'),
    'strawberry.n.01': _nouns('strawberry/strawberries'),
    'pineapple.n.02': _nouns('pineapple'),
    # musical instruments
    'guitar.n.01': _nouns('guitar'),
    'violin.n.01': _nouns('violin', 'fiddle'),
    'cornet.n.01': _nouns('trumpet'),
    'sax.n.02': _nouns('saxophone', 'sax/saxes'),
    'drum.n.01': _nouns('drum'),
    'chime.n.01': _nouns('bell'),
    'piano.n.01': _nouns('piano'),
    # tools
    'hammer.n.02': _nouns('hammer'),
    'wrench.n.03': _nouns('wrench/wrenches', 'spanner'),
    'knife.n.01': _nouns('knife/knives'),
    'pick.n.07': _nouns('pickaxe', 'pick'),
    'scissors.n.01': _nouns('pair of scissors/pairs of scissors'),
    # clothing
    'jersey.n.03': _nouns('t-shirt', 'tee shirt'),
    'dress.n.01': _nouns('dress/dresses', 'frock'),
    'dress_hat.n.01': _nouns('top hat'),
    'kimono.n.01': _nouns('kimono'),
    'necktie.n.01': _nouns('necktie', 'tie'),
    'scarf.n.01': _nouns('scarf/scarves'),
    # plants
    'palm.n.03': _nouns('palm tree', 'palm'),
    'tulip.n.01': _nouns('tulip'),
    'rose.n.01': _nouns('rose'),
    'sunflower.n.01': _nouns('sunflower'),
    'hibiscus.n.01': _nouns('hibiscus/hibiscuses'),
    'clover.n.01': _nouns('clover'),
}


@dataclass(frozen=True)
class PictogramCategory:
    """One drawable category.

    Attributes:
        name: the category name, the first singular noun of its own synset ('fire engine').
        codepoint: the Unicode code point of its Symbola glyph.
        glyph_name: the Unicode character name of the glyph, e.g. ``'FIRE ENGINE'``.
        chain: WordNet synsets from the category's own to its supercategory's.
    """

    name: str
    codepoint: int
    glyph_name: str
    chain: Tuple[str, ...]

    @property
    def synset(self) -> str:
        return self.chain[0]

    @property
    def supercategory(self) -> str:
        return self.chain[-1]


_A, _V, _F = 'animal.n.01', 'vehicle.n.01', 'fruit.n.01'
_M, _T, _C, _P = 'musical_instrument.n.01', 'tool.n.01', 'clothing.n.01', 'plant.n.02'
# (code point, Unicode name, hypernym chain). The glyph -> category table.
_GLYPHS: Tuple[Tuple[int, str, Tuple[str, ...]], ...] = (
    (0x1F415, 'DOG', ('dog.n.01', _A)),
    (0x1F429, 'POODLE', ('poodle.n.01', 'dog.n.01', _A)),
    (0x1F408, 'CAT', ('cat.n.01', _A)),
    (0x1F40E, 'HORSE', ('horse.n.01', _A)),
    (0x1F404, 'COW', ('cow.n.01', _A)),
    (0x1F416, 'PIG', ('hog.n.03', _A)),
    (0x1F411, 'SHEEP', ('sheep.n.01', _A)),
    (0x1F426, 'BIRD', ('bird.n.01', _A)),
    (0x1F413, 'ROOSTER', ('cock.n.04', 'bird.n.01', _A)),
    (0x1F418, 'ELEPHANT', ('elephant.n.01', _A)),
    (0x1F407, 'RABBIT', ('rabbit.n.01', _A)),
    (0x1F401, 'MOUSE', ('mouse.n.01', _A)),
    (0x1F42A, 'DROMEDARY CAMEL', ('camel.n.01', _A)),
    (0x1F697, 'AUTOMOBILE', ('car.n.01', _V)),
    (0x1F695, 'TAXI', ('cab.n.03', 'car.n.01', _V)),
    (0x1F691, 'AMBULANCE', ('ambulance.n.01', 'car.n.01', _V)),
    (0x1F693, 'POLICE CAR', ('cruiser.n.01', 'car.n.01', _V)),
    (0x1F69A, 'DELIVERY TRUCK', ('truck.n.01', _V)),
    (0x1F692, 'FIRE ENGINE', ('fire_engine.n.01', 'truck.n.01', _V)),
    (0x1F69C, 'TRACTOR', ('tractor.n.01', _V)),
    (0x1F6B2, 'BICYCLE', ('bicycle.n.01', _V)),
    (0x1F682, 'STEAM LOCOMOTIVE', ('locomotive.n.01', _V)),
    (0x1F3CD, 'RACING MOTORCYCLE', ('motorcycle.n.01', _V)),
    (0x2708, 'AIRPLANE', ('airplane.n.01', _V)),
    (0x1F681, 'HELICOPTER', ('helicopter.n.01', _V)),
    (0x1F6A2, 'SHIP', ('ship.n.01', _V)),
    (0x26F5, 'SAILBOAT', ('sailboat.n.01', _V)),
    (0x1F34E, 'RED APPLE', ('apple.n.01', _F)),
    (0x1F350, 'PEAR', ('pear.n.01', _F)),
    (0x1F34C, 'BANANA', ('banana.n.02', _F)),
    (0x1F34B, 'LEMON', ('lemon.n.01', _F)),
    (0x1F352, 'CHERRIES', ('cherry.n.03', _F)),
    (0x1F353, 'STRAWBERRY', ('strawberry.n.01', _F)),
    (0x1F34D, 'PINEAPPLE', ('pineapple.n.02', _F)),
    (0x1F3B8, 'GUITAR', ('guitar.n.01', _M)),
    (0x1F3BB, 'VIOLIN', ('violin.n.01', _M)),
    (0x1F3BA, 'TRUMPET', ('cornet.n.01', _M)),
    (0x1F3B7, 'SAXOPHONE', ('sax.n.02', _M)),
    (0x1F941, 'DRUM WITH DRUMSTICKS', ('drum.n.01', _M)),
    (0x1F514, 'BELL', ('chime.n.01', _M)),
    (0x1F3B9, 'MUSICAL KEYBOARD', ('piano.n.01', _M)),
    (0x1F528, 'HAMMER', ('hammer.n.02', _T)),
    (0x1F527, 'WRENCH', ('wrench.n.03', _T)),
    (0x1F52A, 'HOCHO', ('knife.n.01', _T)),
    (0x26CF, 'PICK', ('pick.n.07', _T)),
    (0x2702, 'BLACK SCISSORS', ('scissors.n.01', _T)),
    (0x1F455, 'T-SHIRT', ('jersey.n.03', 'shirt.n.01', _C)),
    (0x1F457, 'DRESS', ('dress.n.01', _C)),
    (0x1F452, 'WOMANS HAT', ('hat.n.01', _C)),
    (0x1F3A9, 'TOP HAT', ('dress_hat.n.01', 'hat.n.01', _C)),
    (0x1F458, 'KIMONO', ('kimono.n.01', _C)),
    (0x1F454, 'NECKTIE', ('necktie.n.01', _C)),
    (0x1F9E3, 'SCARF', ('scarf.n.01', _C)),
    (0x1F333, 'DECIDUOUS TREE', ('tree.n.01', _P)),
    (0x1F334, 'PALM TREE', ('palm.n.03', 'tree.n.01', _P)),
    (0x1F337, 'TULIP', ('tulip.n.01', _P)),
    (0x1F339, 'ROSE', ('rose.n.01', _P)),
    (0x1F33B, 'SUNFLOWER', ('sunflower.n.01', 'flower.n.01', _P)),
    (0x1F33A, 'HIBISCUS', ('hibiscus.n.01', _P)),
    (0x1F340, 'FOUR LEAF CLOVER', ('clover.n.01', _P)),
)

PICTOGRAM_CATEGORIES: Tuple[PictogramCategory, ...] = tuple(
    PictogramCategory(' '.join(CONCEPT_NOUNS[chain[0]][0].singular), cp, glyph_name, chain)
    for cp, glyph_name, chain in _GLYPHS
)
CATEGORY_BY_NAME: Dict[str, PictogramCategory] = {c.name: c for c in PICTOGRAM_CATEGORIES}
PICTOGRAM_CATEGORY_NAMES: Tuple[str, ...] = tuple(CATEGORY_BY_NAME)

# Supercategory synset -> Flickr30k-style phrase type (as Flickr30k's 'animals', 'vehicles').
SUPERCATEGORY_PHRASE_TYPES: Dict[str, str] = {
    _A: 'animals',
    _V: 'vehicles',
    _F: 'fruit',
    _M: 'instruments',
    _T: 'tools',
    _C: 'clothing',
    _P: 'plants',
}
PICTOGRAM_PHRASE_TYPES: Tuple[str, ...] = tuple(SUPERCATEGORY_PHRASE_TYPES.values())
PHRASE_TYPE_OF_PICTOGRAM: Dict[str, str] = {
    c.name: SUPERCATEGORY_PHRASE_TYPES[c.supercategory] for c in PICTOGRAM_CATEGORIES
}
# The RefCOCO testA/testB rule of the v2 preset: animals play RefCOCO's people.
PICTOGRAM_TESTA_PHRASE_TYPE = 'animals'
# The telling part of an object with a part is painted in its supercategory's part colour,
# a colour no whole object has (see :data:`.shapes.COLOURS`), in a fixed window of its glyph.
PART_COLOURS: Dict[str, Tuple[int, int, int]] = {
    _A: (250, 250, 250),  # white
    _V: (15, 15, 15),  # black
    _F: (0, 215, 215),  # cyan
    _M: (250, 60, 200),  # magenta
    _T: (160, 255, 90),  # lime
    _C: (120, 70, 25),  # brown
    _P: (255, 175, 190),  # pink
}
# Window of the glyph box that holds the part, (u1, v1, u2, v2) in the unit square, per
# supercategory: the upper third for animals (heads), the front for vehicles, and so on.
PART_WINDOWS: Dict[str, Tuple[float, float, float, float]] = {
    _A: (0.0, 0.0, 1.0, 0.35),
    _V: (0.0, 0.0, 0.4, 1.0),
    _F: (0.0, 0.0, 1.0, 0.4),
    _M: (0.0, 0.6, 1.0, 1.0),
    _T: (0.6, 0.0, 1.0, 1.0),
    _C: (0.0, 0.65, 1.0, 1.0),
    _P: (0.0, 0.0, 1.0, 0.45),
}


def concept_chain(category: str) -> Tuple[str, ...]:
    """The WordNet synsets naming a pictogram category, from its own to its supercategory."""
    return CATEGORY_BY_NAME[category].chain


def category_nouns(category: str) -> Tuple[Noun, ...]:
    """Every name of a category at its own level (its synonyms)."""
    return CONCEPT_NOUNS[CATEGORY_BY_NAME[category].synset]
