"""The package's layering and size rules, checked on its source.

Layers, lowest first: ``utils`` -> ``models`` | ``datasets`` |
``engine`` -> ``evaluation`` -> ``visualization`` -> ``apis``. A module
imports only from its own layer and the layers below it (``models``,
``datasets`` and ``engine`` are peers that never import each other);
nothing in the package imports ``tools``.
"""
import ast
import os.path as osp
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'projects' / 'cico'
ALLOWED = {
    'utils': {'utils'},
    'models': {'utils', 'models'},
    'datasets': {'utils', 'datasets'},
    'engine': {'utils', 'engine'},
    'evaluation': {'utils', 'datasets', 'evaluation'},
    'visualization': {'utils', 'datasets', 'evaluation', 'visualization'},
    'apis': {
        'utils', 'models', 'datasets', 'engine', 'evaluation', 'visualization',
        'apis'
    },
}
MAX_FUNCTION_LINES = 60


def modules():
    return sorted(p for p in PACKAGE.rglob('*.py'))


def imported_modules(path: Path, source: str = None):
    """Absolute dotted names of everything ``path`` (or ``source`` placed
    at ``path``) imports."""
    rel = path.relative_to(ROOT).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    package = parts if path.name == '__init__.py' else parts[:-1]
    source = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ''
            yield name
            for a in node.names:  # `from . import x` imports submodules
                yield f'{name}.{a.name}'


def layer_of(dotted: str):
    parts = dotted.split('.')
    if parts[:2] != ['projects', 'cico'] or len(parts) < 3:
        return None
    return parts[2]


@pytest.mark.parametrize(
    'path', [p for p in modules() if p.parent != PACKAGE],
    ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_layer_above(path):
    own = path.relative_to(PACKAGE).parts[0]
    assert own in ALLOWED, f'unknown layer {own}: add it to ALLOWED'
    bad = sorted({
        name
        for name in imported_modules(path)
        if name.split('.')[0] == 'tools' or (
            layer_of(name) in ALLOWED and layer_of(name) not in ALLOWED[own])
    })
    assert not bad, f'{own} module imports {bad}'


def test_layer_rule_catches_a_violation():
    """The checker itself: a models module importing datasets and tools."""
    fake = PACKAGE / 'models' / 'heads' / 'fake.py'
    src = ('from ...datasets import VISDataset\nimport tools.train\n'
           'from ..utils import circumscribed_boxes\n')
    names = set(imported_modules(fake, src))
    assert 'projects.cico.datasets' in names and 'tools.train' in names
    assert 'projects.cico.models.utils' in names
    assert layer_of('projects.cico.datasets') not in ALLOWED['models']


def test_no_function_longer_than_60_lines():
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f'{osp.relpath(path, ROOT)}:{node.lineno} '
                                f'{node.name} ({n} lines)')
    assert not long, long
