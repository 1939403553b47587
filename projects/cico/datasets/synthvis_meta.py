"""SynthVIS class names (the dataset's metainfo).

The generator lives with the data tools
(``tools/dataset_converters/synthvis_generator.py``, CLI
``tools/dataset_converters/make_synthvis.py``) and keeps its own copy of
these names, the shapes it draws: it depends on numpy, OpenCV and
pycocotools only, as importing this package (torch, mmdet) would cost every
rendering process seconds. ``tests/test_datasets/test_synthvis.py`` checks
that both lists agree.
"""
from typing import Tuple

#: Class names; category ids are 1..6 in this order. The class is the shape,
#: never the colour.
SYNTHVIS_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star',
                                     'hexagon', 'ring')
