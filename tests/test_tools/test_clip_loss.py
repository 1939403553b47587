"""tools/analysis_tools/clip_loss.py: every loss term of a config on chosen
clips, one training-mode forward."""
import importlib.util
from pathlib import Path

import pytest

from tools.dataset_converters.synthvis_generator import generate_synthvis

REPO_ROOT = Path(__file__).resolve().parents[2]
OURS = str(REPO_ROOT / 'configs' / 'cico_yolact_r18_synthvis.py')
AUTHORS = str(REPO_ROOT / 'configs' / 'synthvis' /
              'cico_yolact_r18_authors_losses.py')
TERMS = [
    'loss_cls', 'loss_bbox', 'loss_diou', 'loss_quality', 'loss_track',
    'loss_mask'
]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'clip_loss', REPO_ROOT / 'tools' / 'analysis_tools' / 'clip_loss.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


clip_loss = _load_tool()


@pytest.fixture(scope='module')
def synthvis(tmp_path_factory):
    root = tmp_path_factory.mktemp('clip_loss') / 'synthvis'
    generate_synthvis(
        str(root),
        train_videos=2,
        val_videos=0,
        frames=(6, 6),
        size=(96, 160),
        seed=0)
    return [
        '--ann', f'{root}/annotations/train.json', '--img-dir',
        f'{root}/train/JPEGImages'
    ]


def _run(capsys, config, data, *args) -> dict:
    assert clip_loss.main([config, *data, *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    out = {}
    for line in lines:
        assert len(line.split()) == 2, lines
        name, value = line.split()
        assert len(value.replace('.', '').replace('-', '').lstrip('0')) <= 7
        out[name] = float(value)
    assert list(out) == TERMS + ['loss'], lines
    assert out['loss'] == pytest.approx(sum(out[t] for t in TERMS), rel=1e-6)
    return out


def test_prints_every_term_of_both_recipes(synthvis, capsys):
    clips = ['--clip', '1:0,1,2', '--clip', '2:3,4,5']
    ours = _run(capsys, OURS, synthvis, *clips)
    authors = _run(capsys, AUTHORS, synthvis, *clips)
    assert all(v > 0 for v in ours.values())
    assert all(v > 0 for v in authors.values())
    # same seed, same weights: the recipes differ in the loss only
    assert ours != authors
    # the loss reads the config: a doubled mask weight doubles that term
    # and leaves the others as they were
    doubled = _run(capsys, AUTHORS, synthvis, *clips, '--cfg-options',
                   'model.mask_head.loss_mask.loss_weight=12.25')
    assert doubled['loss_mask'] == pytest.approx(
        2 * authors['loss_mask'], rel=1e-6)
    for term in TERMS[:-1]:
        assert doubled[term] == authors[term]
    with capsys.disabled():
        print(f'\n[clip_loss] ours {ours}\n[clip_loss] authors {authors}')


def test_seed_and_frames_change_the_values(synthvis, capsys):
    first = _run(capsys, OURS, synthvis, '--clip', '1:0,1,2')
    assert _run(capsys, OURS, synthvis, '--clip', '1:0,1,2') == first
    other_seed = _run(capsys, OURS, synthvis, '--clip', '1:0,1,2', '--seed',
                      '1')
    assert other_seed['loss_cls'] != first['loss_cls']
    other_frames = _run(capsys, OURS, synthvis, '--clip', '1:3,4,5')
    assert other_frames['loss_mask'] != first['loss_mask']


def test_bad_clips_are_named(synthvis, capsys):
    with pytest.raises(ValueError, match='video 1: 2 clip frames'):
        clip_loss.main([OURS, *synthvis, '--clip', '1:0,1'])
    with pytest.raises(ValueError, match=r'video 2: frame indices \[6\]'):
        clip_loss.main([OURS, *synthvis, '--clip', '2:4,5,6'])
    with pytest.raises(SystemExit, match='video id 9 is not in'):
        clip_loss.main([OURS, *synthvis, '--clip', '9:0,1,2'])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:  # argparse: a usage error
        clip_loss.main([OURS, *synthvis, '--clip', 'one:0,1,2'])
    assert exc.value.code == 2
    assert "error: argument --clip: --clip 'one:0,1,2': expected " \
        'VIDEO_ID:F1,F2,... (integers, e.g. 3:0,1,2)' in \
        capsys.readouterr().err


def test_deterministic_pipeline():
    pipeline = [
        dict(type='ClipFrameSample'),
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(
                    type='RandomResize',
                    scale=(224, 128),
                    ratio_range=(0.8, 1.25),
                    keep_ratio=True),
                dict(type='RandomCrop', crop_size=(224, 128)),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PhotoMetricDistortion'),
            ]),
        dict(type='PackClipInputs')
    ]
    out = clip_loss.deterministic_pipeline(pipeline)
    assert [t['type']
            for t in out[1]['transforms']] == ['LoadImageFromFile', 'Resize']
    assert out[1]['transforms'][1] == dict(
        type='Resize', scale=(224, 128), keep_ratio=True)
    assert out[0] == pipeline[0] and out[2] == pipeline[2]
    with pytest.raises(ValueError, match="'RandomAffine'"):
        clip_loss.deterministic_pipeline([dict(type='RandomAffine')])
    # random without 'Random' in the name: found by mmcv's marker
    with pytest.raises(ValueError, match="'Mosaic'"):
        clip_loss.deterministic_pipeline([dict(type='Mosaic', img_scale=8)])
    assert clip_loss.deterministic_pipeline(
        [dict(type='ClipExpand'),
         dict(type='Resize',
              scale=(8, 8))]) == [dict(type='Resize', scale=(8, 8))]


def test_main_config_pipeline_runs_deterministically(synthvis, capsys):
    """The authors' recipe as the main config has it (R50, their
    augmentation, ForcedMatchAssigner...) on a SynthVIS clip: every term
    printed; no pretrained file read."""
    r50 = str(REPO_ROOT / 'configs' / 'cico_yolact_r50_ytvis19.py')
    out = _run(capsys, r50, synthvis, '--clip', '1:0,1,2', '--cfg-options',
               'train_dataloader.dataset.type=SynthVISDataset',
               'model.bbox_head.num_classes=6',
               'model.mask_head.num_classes=6')
    assert all(v > 0 for v in out.values())
