"""metafile.yml (mmdet's model-index format) agrees with configs/ and
README.md: every config path exists, every real config has an entry whose
metadata matches the config, and every AP equals the paper's number in the
README's "Models" table (paper Table 3 and Table 4)."""
import glob
import os.path as osp
import re
from typing import Dict, List

import pytest
import yaml
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METAFILE = osp.join(ROOT, 'metafile.yml')
README = osp.join(ROOT, 'README.md')
# the real (paper) configs; the r18 SynthVIS configs are CPU-only
REAL_CONFIG = re.compile(
    r'^cico_(yolact|condinst)_(r50|r101|swint)_(ytvis19|ytvis21|ovis)\.py$')
GPUS = 4  # paper Sec. 4: four GPUs, 24 clips per batch
TASK = 'Video Instance Segmentation'
# README column -> config suffix -> metafile dataset name
README_COLUMNS = {
    'YT-VIS 2019': 'ytvis19',
    'YT-VIS 2021': 'ytvis21',
    'OVIS': 'ovis'
}
DATASET_NAMES = {
    'ytvis19': 'YouTube-VIS 2019',
    'ytvis21': 'YouTube-VIS 2021',
    'ovis': 'OVIS'
}
DATASET_TYPES = {
    'YTVIS2019Dataset': 'YouTube-VIS 2019',
    'YTVIS2021Dataset': 'YouTube-VIS 2021',
    'OVISDataset': 'OVIS',
    'SynthVISDataset': 'SynthVIS'
}
# mask AP on the valid sets, paper Table 3 (R50, Swin-tiny) and Table 4
# (R101), written out: the README table and metafile.yml must quote these
PAPER_AP = {
    'cico_yolact_r50_ytvis19': 37.1,
    'cico_yolact_r50_ytvis21': 35.2,
    'cico_yolact_r50_ovis': 17.2,
    'cico_condinst_r50_ytvis19': 37.3,
    'cico_condinst_r50_ytvis21': 35.4,
    'cico_condinst_r50_ovis': 18.0,
    'cico_yolact_r101_ytvis19': 39.6,
    'cico_yolact_r101_ytvis21': 36.5,
    'cico_yolact_r101_ovis': 19.1,
    'cico_condinst_r101_ytvis19': 39.6,
    'cico_condinst_r101_ytvis21': 36.7,
    'cico_condinst_r101_ovis': 20.4,
    'cico_yolact_swint_ytvis19': 41.8,
    'cico_yolact_swint_ytvis21': 38.0,
    'cico_yolact_swint_ovis': 18.0,
    'cico_condinst_swint_ytvis19': 41.4,
    'cico_condinst_swint_ytvis21': 39.1,
    'cico_condinst_swint_ovis': 17.2,
}


def _cells(line: str) -> List[str]:
    return [c.strip() for c in line.strip().strip('|').split('|')]


def readme_paper_ap() -> Dict[str, float]:
    """``{config name: AP}`` from README.md's results table, the one with
    the columns model | config | <dataset> paper / converted / retrained
    per dataset: the paper's number of each cell (a cell reads e.g.
    ``37.1 / — / —``); a row's config cell is a pattern such as
    ```cico_yolact_r50_*```."""
    with open(README, encoding='utf-8') as f:
        lines = f.read().splitlines()
    header = ['model', 'config'] + [
        f'{col} paper / converted / retrained' for col in README_COLUMNS
    ]
    starts = [
        i for i, line in enumerate(lines)
        if line.startswith('|') and _cells(line) == header
    ]
    assert len(starts) == 1, (
        f'README.md: expected one table with header {header}, found '
        f'{len(starts)}')
    table = {}
    for line in lines[starts[0] + 2:]:  # skip the |---| row
        if not line.startswith('|'):
            break
        row = _cells(line)
        assert len(row) == len(header), f'README.md: malformed row {line!r}'
        pattern = row[1].strip('`')
        assert pattern.endswith('_*'), f'README.md: config cell {row[1]!r}'
        for k, suffix in enumerate(README_COLUMNS.values()):
            name = pattern[:-1] + suffix
            assert name not in table, f'README.md: {name} listed twice'
            cell = [v.strip() for v in row[2 + k].split('/')]
            assert len(cell) == 3, f'README.md: cell {row[2 + k]!r}'
            table[name] = float(cell[0])
    return table


def load_metafile() -> dict:
    with open(METAFILE, encoding='utf-8') as f:
        return yaml.safe_load(f)


def real_configs() -> List[str]:
    return sorted(
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(ROOT, 'configs', 'cico_*.py'))
        if REAL_CONFIG.match(osp.basename(p)))


def models_by_name() -> Dict[str, dict]:
    models = load_metafile()['Models']
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names)), 'duplicate model names'
    return {m['Name']: m for m in models}


def test_readme_table_parses():
    table = readme_paper_ap()
    # the table covers exactly the real configs, so a row or config that is
    # added, removed or renamed on one side only is caught here
    assert sorted(table) == real_configs()
    assert len(table) == 18
    # every row quotes the paper's table
    assert table == PAPER_AP


def test_collections():
    meta = load_metafile()
    collections = meta['Collections']
    names = [c['Name'] for c in collections]
    assert len(names) == len(set(names))
    for c in collections:
        assert c['Paper']['URL'].startswith('https://')
        assert c['Paper']['Title']
        assert osp.isfile(osp.join(ROOT, c['README']))
        assert osp.exists(osp.join(ROOT, c['Code']['URL']))
    for m in meta['Models']:
        assert m['In Collection'] in names, m['Name']


def test_config_paths_exist():
    for name, m in models_by_name().items():
        path = m['Config']
        assert osp.isfile(osp.join(ROOT, path)), f'{name}: no {path}'
        assert osp.splitext(osp.basename(path))[0] == name
        # no converted weights exist: the authors' checkpoints are not in
        # mmdet format
        assert 'Weights' in m and m['Weights'] is None, name


def test_every_real_config_has_an_entry():
    configs = real_configs()
    assert len(configs) == 18
    missing = sorted(set(configs) - set(models_by_name()))
    assert not missing, f'configs without a metafile.yml entry: {missing}'


def test_ap_equals_readme_paper_table():
    table = readme_paper_ap()
    for name, m in models_by_name().items():
        results = m.get('Results') or []
        if name not in table:
            assert not results, f'{name}: AP without a paper number'
            continue
        dataset = DATASET_NAMES[REAL_CONFIG.match(name + '.py').group(3)]
        assert len(results) == 1, name
        res = results[0]
        assert res['Task'] == TASK and res['Dataset'] == dataset, name
        expected = {'AP': table[name]}
        assert res['Metrics'] == expected, (
            f'{name}: metafile {res["Metrics"]} != README {expected}')
        assert res['Metrics'] == {'AP': PAPER_AP[name]}, name


@pytest.mark.parametrize('name', sorted(models_by_name()))
def test_metadata_matches_config(name):
    m = models_by_name()[name]
    cfg = Config.fromfile(
        osp.join(ROOT, m['Config']), import_custom_modules=False)
    meta = m['Metadata']
    train = cfg.train_dataloader
    assert meta['Training Data'] == DATASET_TYPES[train.dataset.type]
    if 'Epochs' in meta:
        assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
        assert meta['Epochs'] == cfg.train_cfg.max_epochs
    else:
        assert meta['Iterations'] == cfg.train_cfg.max_iters
    if REAL_CONFIG.match(name + '.py'):
        assert meta['Batch Size'] == GPUS * train.batch_size
    else:
        assert meta['Batch Size'] == train.batch_size
