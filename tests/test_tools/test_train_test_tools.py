"""End-to-end tests of tools/train.py, tools/test.py,
tools/dist_{train,test}.sh and tools/analysis_tools/browse_dataset.py on a
tiny SynthVIS dataset (CPU).

The tools run as subprocesses with this interpreter, exactly as a user runs
them, on the CPU (CUDA_VISIBLE_DEVICES='', so the no-CUDA gloo path is tested
on any machine). The SynthVIS config is shrunk from the command line
(--cfg-options): 64x96 frames, a 2-iteration schedule, no dataloader workers.
"""
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from subprocess import CompletedProcess
from typing import Dict, List, Optional

import cv2
import mmengine
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData

from tools.dataset_converters.synthvis_generator import generate_synthvis

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/cico_yolact_r18_synthvis.py'
TRAIN = 'tools/train.py'
TEST = 'tools/test.py'
BROWSE = 'tools/analysis_tools/browse_dataset.py'
FRAME_HW = (64, 96)  # generated frame size (h, w) = pipeline scale
SCALE = f'({FRAME_HW[1]},{FRAME_HW[0]})'  # mmdet (w, h)
TOOL_TIMEOUT = 300  # s, one tool run
# keep every candidate of the barely trained model: score 0, no mask-area
# filter, so each video gets tracks to export
EXPORT_OPTIONS = [
    'model.test_cfg.score_thr=0.0', 'model.test_cfg.min_mask_area=-1'
]

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- helpers
def _transform_keys(cfg: Config, loader: str, field: str) -> List[str]:
    """``--cfg-options`` keys of every ``field`` (scale / crop_size) in the
    pipeline of ``loader``, found by walking the config, so a reordered
    pipeline still gets the small frame size."""
    keys = []

    def walk(transforms, prefix):
        for i, t in enumerate(transforms):
            if field in t:
                keys.append(f'{prefix}.{i}.{field}')
            if 'transforms' in t:
                walk(t['transforms'], f'{prefix}.{i}.transforms')

    walk(cfg[loader].dataset.pipeline, f'{loader}.dataset.pipeline')
    return keys


def tiny_options(data_root: str,
                 max_iters: int = 2,
                 val_interval: int = 2) -> List[str]:
    """--cfg-options that point the config at ``data_root`` and shrink it."""
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    opts = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={val_interval}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        'train_dataloader.batch_size=1',
        'randomness.seed=0',
        # few tracks per clip: fast test-time tracking and evaluation
        'model.test_cfg.nms.max_per_clip=5',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
        for field in ('scale', 'crop_size'):
            opts += [
                f'{k}={SCALE}' for k in _transform_keys(cfg, loader, field)
            ]
    assert any('scale' in o for o in opts if o.startswith('train')), \
        'the train pipeline has no resize scale to shrink'
    return opts


def run_tool(args: List[str],
             env: Optional[Dict[str, str]] = None,
             timeout: int = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env['CUDA_VISIBLE_DEVICES'] = ''  # CPU on any machine (gloo path)
    full_env.update(env or {})
    return subprocess.run(
        args,
        cwd=str(REPO_ROOT),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)


def describe(proc: subprocess.CompletedProcess) -> str:
    return (f'exit {proc.returncode}: {" ".join(map(str, proc.args))}\n'
            f'--- stdout (tail)\n{proc.stdout[-3000:]}\n'
            f'--- stderr (tail)\n{proc.stderr[-5000:]}')


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, describe(proc)


def train(work_dir: Path,
          data_root: str,
          *extra: str,
          max_iters: int = 2,
          val_interval: int = 2,
          options: List[str] = ()) -> CompletedProcess:
    return run_tool([
        sys.executable, TRAIN, CONFIG, '--work-dir',
        str(work_dir), *extra, '--cfg-options',
        *tiny_options(data_root, max_iters, val_interval), *options
    ])


def run_test_tool(checkpoint: str,
                  work_dir: Path,
                  data_root: str,
                  *extra: str,
                  options: List[str] = ()) -> CompletedProcess:
    """tools/test.py on a checkpoint of our own training run: trusted
    explicitly (it holds the message hub, so it needs unpickling)."""
    return run_tool([
        sys.executable, TEST, CONFIG, checkpoint, '--work-dir',
        str(work_dir), '--trust-checkpoint', *extra, '--cfg-options',
        *tiny_options(data_root), *options
    ])


def run_logs(work_dir: Path) -> List[str]:
    """Texts of the runner logs (<work_dir>/<timestamp>/<timestamp>.log),
    oldest first."""
    logs = sorted(work_dir.glob('*/*.log'))
    return [p.read_text() for p in logs]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_env() -> Dict[str, str]:
    """Environment of the dist scripts: this interpreter and its torchrun."""
    bin_dir = osp.dirname(sys.executable)
    return dict(
        PYTHON=sys.executable,
        PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''),
        PORT=str(free_port()),
        OMP_NUM_THREADS='1')


def load_browse_module():
    spec = importlib.util.spec_from_file_location('browse_dataset',
                                                  REPO_ROOT / BROWSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def synthvis(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('synthvis')
    info = generate_synthvis(
        str(root),
        train_videos=4,
        val_videos=2,
        frames=(4, 6),
        size=FRAME_HW,
        seed=0)
    with open(root / 'annotations' / 'valid.json') as f:
        valid = json.load(f)
    return dict(root=str(root), info=info, valid=valid)


@pytest.fixture(scope='module')
def trained(synthvis, tmp_path_factory) -> dict:
    """tools/train.py for 2 iterations (checkpoint each, validation at 2)."""
    work_dir = tmp_path_factory.mktemp('train') / 'work'
    proc = train(work_dir, synthvis['root'])
    assert_ok(proc)
    return dict(work_dir=work_dir, proc=proc)


@pytest.fixture(scope='module')
def exported(trained, synthvis, tmp_path_factory) -> dict:
    """tools/test.py --format-only --outfile-prefix P on the iter-2
    checkpoint (one process)."""
    tmp = tmp_path_factory.mktemp('export')
    prefix = tmp / 'export' / 'ytvis_valid'
    proc = run_test_tool(
        str(trained['work_dir'] / 'iter_2.pth'),
        tmp / 'work',
        synthvis['root'],
        '--format-only',
        '--outfile-prefix',
        str(prefix),
        options=EXPORT_OPTIONS)
    assert_ok(proc)
    return dict(prefix=prefix, proc=proc)


def assert_same_predictions(preds: List[dict], expected: List[dict]) -> None:
    """Same exported predictions up to order and float noise (the thread
    count differs between runs)."""

    def key(p):
        return (p['video_id'], p['category_id'], p['score'])

    preds, expected = sorted(preds, key=key), sorted(expected, key=key)
    assert [(p['video_id'], p['category_id'], len(p['segmentations']))
            for p in preds] == [(p['video_id'], p['category_id'],
                                 len(p['segmentations'])) for p in expected]
    np.testing.assert_allclose([p['score'] for p in preds],
                               [p['score'] for p in expected],
                               atol=1e-3)


# ---------------------------------------------------------------- train
def test_train_writes_checkpoints_and_log(trained):
    work_dir = trained['work_dir']
    assert (work_dir / 'iter_1.pth').is_file()
    assert (work_dir / 'iter_2.pth').is_file()
    assert not (work_dir / 'iter_3.pth').exists()
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert Path(last).resolve() == (work_dir / 'iter_2.pth').resolve()
    # the config dump and one run log
    assert (work_dir / osp.basename(CONFIG)).is_file()
    logs = run_logs(work_dir)
    assert len(logs) == 1
    log = logs[0]
    assert 'Iter(train) [2/2]' in log
    assert re.search(r'loss: \d', log), 'no loss value in the log'
    # validation ran at iteration 2 and reported the VIS metric
    assert 'youtube_vis/segm_mAP' in log
    # the checkpoint is a full runner checkpoint at iteration 2
    ckpt = torch.load(
        str(work_dir / 'iter_2.pth'), map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 2
    assert 'state_dict' in ckpt and 'optimizer' in ckpt


def test_train_switches_to_gloo_without_cuda(trained):
    assert "-> 'gloo'" in trained['proc'].stdout
    dumped = Config.fromfile(str(trained['work_dir'] / osp.basename(CONFIG)))
    assert dumped.env_cfg.dist_cfg.backend == 'gloo'


def _copy_work_dir(src: Path, dst: Path) -> Path:
    """A copy of a finished work dir whose last_checkpoint points into it."""
    shutil.copytree(src, dst)
    (dst / 'last_checkpoint').write_text(str(dst / 'iter_2.pth'))
    return dst


def test_resume_auto_continues_from_latest(trained, synthvis, tmp_path):
    work_dir = _copy_work_dir(trained['work_dir'], tmp_path / 'work')
    proc = train(
        work_dir, synthvis['root'], '--resume', max_iters=3, val_interval=10)
    assert_ok(proc)
    assert (work_dir / 'iter_3.pth').is_file()
    log = run_logs(work_dir)[-1]
    assert f'Auto resumed from the latest checkpoint {work_dir}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    # only iteration 3 was trained in this run
    assert 'Iter(train) [3/3]' in log
    assert 'Iter(train) [1/3]' not in log
    assert 'Iter(train) [2/3]' not in log
    ckpt = torch.load(
        str(work_dir / 'iter_3.pth'), map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 3
    # the lr schedule continues: iteration 3 has the lr of an uninterrupted
    # 3-iteration run (the warm-up is not restarted)
    fresh = tmp_path / 'fresh'
    assert_ok(train(fresh, synthvis['root'], max_iters=3, val_interval=10))

    def lr_at_iter3(text):
        line = [ln for ln in text.splitlines() if 'Iter(train) [3/3]' in ln]
        return float(line[0].split('lr: ')[1].split()[0])

    assert lr_at_iter3(log) == pytest.approx(lr_at_iter3(run_logs(fresh)[-1]))
    assert lr_at_iter3(log) > 0


def test_resume_from_explicit_checkpoint(trained, synthvis, tmp_path):
    """A checkpoint outside the run's work_dir needs --trust-checkpoint."""
    work_dir = tmp_path / 'work'
    ckpt = trained['work_dir'] / 'iter_1.pth'
    refused = train(
        tmp_path / 'refused',
        synthvis['root'],
        '--resume',
        str(ckpt),
        max_iters=2,
        val_interval=10)
    assert refused.returncode != 0
    assert str(ckpt) in refused.stderr and '--trust-checkpoint' in \
        refused.stderr, describe(refused)
    assert 'Traceback' not in refused.stderr
    proc = train(
        work_dir,
        synthvis['root'],
        '--resume',
        str(ckpt),
        '--trust-checkpoint',
        max_iters=2,
        val_interval=10)
    assert_ok(proc)
    log = run_logs(work_dir)[-1]
    assert 'resumed epoch: 0, iter: 1' in log
    assert 'Iter(train) [2/2]' in log
    assert 'Iter(train) [1/2]' not in log
    assert (work_dir / 'iter_2.pth').is_file()
    assert not (work_dir / 'iter_1.pth').exists()


def test_train_cli_errors(synthvis, tmp_path):
    # --resume with a missing file: named, nothing built
    missing = tmp_path / 'no_such.pth'
    proc = train(tmp_path / 'w1', synthvis['root'], '--resume', str(missing))
    assert proc.returncode != 0
    assert str(missing) in proc.stderr
    assert not (tmp_path / 'w1').exists()
    # --auto-scale-lr needs auto_scale_lr.base_batch_size
    child = tmp_path / 'no_auto_scale.py'
    child.write_text(f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
                     'auto_scale_lr = dict(_delete_=True, enable=False)\n')
    proc = run_tool([
        sys.executable, TRAIN,
        str(child), '--auto-scale-lr', '--work-dir',
        str(tmp_path / 'w2')
    ])
    assert proc.returncode != 0
    assert 'base_batch_size' in proc.stderr
    assert not (tmp_path / 'w2').exists()
    # --amp needs CUDA: a clear message on this CPU run
    proc = run_tool([
        sys.executable, TRAIN, CONFIG, '--amp', '--work-dir',
        str(tmp_path / 'w3')
    ])
    assert proc.returncode != 0
    assert '--amp' in proc.stderr and 'CUDA' in proc.stderr
    assert not (tmp_path / 'w3').exists()


# ---------------------------------------------------------------- test
AP_KEY = 'youtube_vis/segm_mAP'


def test_test_prints_metrics_and_dumps_out(trained, synthvis, tmp_path):
    out = tmp_path / 'metrics.pkl'
    proc = run_test_tool(
        str(trained['work_dir'] / 'iter_2.pth'), tmp_path / 'work',
        synthvis['root'], '--out', str(out))
    assert_ok(proc)
    assert 'Load checkpoint from' in proc.stdout + proc.stderr
    assert re.search(re.escape(AP_KEY) + r': -?\d', proc.stdout), \
        describe(proc)
    metrics = mmengine.load(str(out))
    assert isinstance(metrics, dict)
    for item in ('mAP', 'mAP_50', 'mAP_75', 'AR@1', 'AR@10'):
        value = metrics[f'youtube_vis/segm_{item}']
        assert -1.0 <= value <= 1.0


def test_test_format_only_writes_submission(exported, synthvis):
    prefix, proc = exported['prefix'], exported['proc']
    assert_ok(proc)
    assert AP_KEY not in proc.stdout  # format-only: no AP
    json_file = Path(f'{prefix}.json')
    zip_file = Path(f'{prefix}.submission_file.zip')
    assert json_file.is_file() and zip_file.is_file(), describe(proc)
    preds = json.loads(json_file.read_text())
    with zipfile.ZipFile(zip_file) as zf:
        assert zf.namelist() == ['results.json']
        assert json.loads(zf.read('results.json')) == preds
    # every candidate kept (EXPORT_OPTIONS): every video has predictions
    assert {p['video_id']
            for p in preds} == {v['id']
                                for v in synthvis['valid']['videos']}
    lengths = {
        v['id']: len(v['file_names'])
        for v in synthvis['valid']['videos']
    }
    cat_ids = {c['id'] for c in synthvis['valid']['categories']}
    for pred in preds:
        assert pred['video_id'] in lengths
        assert len(pred['segmentations']) == lengths[pred['video_id']]
        assert pred['category_id'] in cat_ids
        assert 0.0 <= pred['score'] <= 1.0


def test_test_refuses_untrusted_and_runs_published(trained, exported, synthvis,
                                                   tmp_path):
    """Without --trust-checkpoint a training checkpoint (message hub) is
    refused with one message; its published copy loads weights-only and
    exports the same predictions as the trusted original."""
    ckpt = str(trained['work_dir'] / 'iter_2.pth')
    refused = run_tool([
        sys.executable, TEST, CONFIG, ckpt, '--work-dir',
        str(tmp_path / 'refused'), '--cfg-options',
        *tiny_options(synthvis['root'])
    ])
    assert refused.returncode != 0
    for text in (ckpt, '--trust-checkpoint', 'CICO_TRUST_CHECKPOINTS=1',
                 'publish_model.py'):
        assert text in refused.stderr, describe(refused)
    assert 'Traceback' not in refused.stderr
    pub = run_tool([
        sys.executable, 'tools/model_converters/publish_model.py', ckpt,
        str(tmp_path / 'pub' / 'model.pth'), '--trust-checkpoint'
    ])
    assert_ok(pub)
    final = pub.stdout.strip().splitlines()[-1]
    assert re.search(r'model-[0-9a-f]{8}\.pth$', final), describe(pub)
    prefix = tmp_path / 'export' / 'ytvis_valid'
    proc = run_tool([
        sys.executable, TEST, CONFIG, final, '--work-dir',
        str(tmp_path / 'work'), '--format-only', '--outfile-prefix',
        str(prefix), '--cfg-options', *tiny_options(synthvis['root']),
        *EXPORT_OPTIONS
    ])
    assert_ok(proc)
    preds = json.loads(Path(f'{prefix}.json').read_text())
    expected = json.loads(Path(f'{exported["prefix"]}.json').read_text())
    assert preds
    assert_same_predictions(preds, expected)


def test_test_speed_switches_give_the_same_predictions(trained, exported,
                                                       synthvis, tmp_path):
    """--fuse-conv-bn folds every BN (backbone, CMH) and --channels-last
    converts the conv weights after the checkpoint is loaded; the exported
    predictions are those of the plain model."""
    prefix = tmp_path / 'export' / 'ytvis_valid'
    proc = run_test_tool(
        str(trained['work_dir'] / 'iter_2.pth'),
        tmp_path / 'work',
        synthvis['root'],
        '--fuse-conv-bn',
        '--channels-last',
        '--format-only',
        '--outfile-prefix',
        str(prefix),
        options=EXPORT_OPTIONS)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    found = re.search(r'FuseConvBNHook: folded (\d+) of (\d+) batch norms',
                      log)
    assert found and found.group(1) == found.group(2) != '0', describe(proc)
    assert log.index('Load checkpoint from') < found.start()
    found = re.search(r'ChannelsLastHook: (\d+) conv weights', log)
    assert found and int(found.group(1)) > 20, describe(proc)
    assert log.index('Load checkpoint from') < found.start()
    preds = json.loads(Path(f'{prefix}.json').read_text())
    expected = json.loads(Path(f'{exported["prefix"]}.json').read_text())
    assert preds
    assert_same_predictions(preds, expected)


def test_test_format_only_default_prefix(trained, synthvis, tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_test_tool(
        str(trained['work_dir'] / 'iter_2.pth'), work_dir, synthvis['root'],
        '--format-only')
    assert_ok(proc)
    assert (work_dir / 'results.json').is_file()
    with zipfile.ZipFile(work_dir / 'results.submission_file.zip') as zf:
        assert zf.namelist() == ['results.json']


def test_test_missing_checkpoint(synthvis, tmp_path):
    missing = tmp_path / 'missing' / 'epoch_12.pth'
    work_dir = tmp_path / 'work'
    proc = run_test_tool(str(missing), work_dir, synthvis['root'])
    assert proc.returncode != 0
    assert str(missing) in proc.stderr
    assert 'Traceback' not in proc.stderr  # a message, not a crash
    assert not work_dir.exists()  # failed before building the runner


def test_test_show_dir_draws_every_video(trained, synthvis, tmp_path):
    show_dir = tmp_path / 'show'
    proc = run_test_tool(
        str(trained['work_dir'] / 'iter_2.pth'),
        tmp_path / 'work',
        synthvis['root'],
        '--show-dir',
        str(show_dir),
        options=['model.test_cfg.score_thr=0.0'])
    assert_ok(proc)
    images = sorted(show_dir.rglob('*.jpg')) + sorted(show_dir.rglob('*.png'))
    assert images, f'nothing drawn under {show_dir}'
    rel = [str(p.relative_to(show_dir)) for p in images]
    for video in synthvis['valid']['videos']:
        name = osp.dirname(video['file_names'][0])
        assert any(name in r for r in rel), \
            f'no drawn frame of video {name} in {rel}'
    img = cv2.imread(str(images[0]))
    assert img is not None and img.shape[0] >= FRAME_HW[0]


# ---------------------------------------------------------------- dist
def test_dist_train_two_gloo_processes(synthvis, tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_tool([
        'bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
        str(work_dir), '--cfg-options', *tiny_options(synthvis['root'])
    ],
                    env=dist_env())
    assert_ok(proc)
    assert (work_dir / 'iter_2.pth').is_file()
    log = run_logs(work_dir)[-1]
    assert 'Distributed training: True' in log
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert 'Iter(train) [2/2]' in log
    assert 'youtube_vis/segm_mAP' in log  # distributed validation
    assert proc.stdout.count("-> 'gloo'") == 2, describe(proc)  # 2 ranks


def test_dist_test_two_gloo_processes(trained, exported, synthvis, tmp_path):
    prefix = tmp_path / 'dist' / 'results'
    proc = run_tool([
        'bash', 'tools/dist_test.sh', CONFIG,
        str(trained['work_dir'] / 'iter_2.pth'), '2', '--work-dir',
        str(tmp_path / 'work'), '--trust-checkpoint', '--format-only',
        '--outfile-prefix',
        str(prefix), '--cfg-options', *tiny_options(synthvis['root']),
        *EXPORT_OPTIONS
    ],
                    env=dist_env())
    assert_ok(proc)
    preds = json.loads(Path(f'{prefix}.json').read_text())
    single = json.loads(Path(f"{exported['prefix']}.json").read_text())
    # the ranks' results are gathered: the same export as one process
    assert_same_predictions(preds, single)


def test_dist_scripts_are_executable_and_use_torchrun():
    for name in ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
                 'torchrun_launch.sh'):
        path = REPO_ROOT / 'tools' / name
        assert os.access(path, os.X_OK), f'{path} is not executable'
        proc = run_tool(['bash', '-n', str(path)])
        assert_ok(proc)
    launcher = (REPO_ROOT / 'tools' / 'torchrun_launch.sh').read_text()
    assert 'torchrun' in launcher
    assert 'torch.distributed.launch' not in launcher
    for name, script in (('dist_train.sh', 'train.py'), ('dist_test.sh',
                                                         'test.py')):
        text = (REPO_ROOT / 'tools' / name).read_text()
        assert 'torchrun_launch.sh' in text and f'/{script}' in text
        assert '--launcher pytorch' in text
    assert '--launcher="slurm"' in (REPO_ROOT / 'tools' /
                                    'slurm_train.sh').read_text()
    # usage message, non-zero exit, when arguments are missing
    proc = run_tool(['bash', 'tools/dist_train.sh', CONFIG])
    assert proc.returncode != 0 and 'usage' in proc.stderr
    proc = run_tool(['bash', 'tools/dist_test.sh', CONFIG, 'ckpt.pth'])
    assert proc.returncode != 0 and 'usage' in proc.stderr


# ---------------------------------------------------------------- browse
def _browse(synthvis, out_dir: Path, split: str, num: int):
    return run_tool([
        sys.executable, BROWSE, CONFIG, '--split', split, '--num-clips',
        str(num), '--output-dir',
        str(out_dir), '--seed', '0', '--cfg-options',
        *tiny_options(synthvis['root'])
    ])


def test_browse_dataset_train(synthvis, tmp_path):
    out_dir = tmp_path / 'browse'
    proc = _browse(synthvis, out_dir, 'train', 5)  # > 4 videos: wraps round
    assert_ok(proc)
    pngs = sorted(out_dir.glob('*.png'))
    assert len(pngs) == 5
    for png in pngs:
        assert str(png) in proc.stdout  # written paths are printed
        img = cv2.imread(str(png))
        h, w = img.shape[:2]
        # T=3 frames side by side, each at most the (cropped) pipeline size
        assert w % 3 == 0
        assert h <= FRAME_HW[0] and w // 3 <= FRAME_HW[1]
        assert h >= FRAME_HW[0] * 0.8 - 1  # RandomResize ratio >= 0.8


def test_browse_dataset_test_split_draws_gt(synthvis, tmp_path):
    out_dir = tmp_path / 'browse'
    proc = _browse(synthvis, out_dir, 'test', 3)
    assert_ok(proc)
    pngs = sorted(out_dir.glob('*.png'))
    assert len(pngs) == 3
    h, w = FRAME_HW
    first = pngs[0]  # clip 0 of the first valid video, frames 0..2
    img = cv2.imread(str(first))
    assert img.shape == (h, 3 * w, 3)
    video = synthvis['valid']['videos'][0]
    raw = cv2.imread(
        osp.join(synthvis['root'], 'valid', 'JPEGImages',
                 video['file_names'][0]))
    # the first frame is the (unresized) frame with annotations drawn on it
    diff = np.abs(img[:, :w].astype(int) - raw.astype(int)).max(-1)
    same = (diff <= 2).mean()
    assert 0.3 < same < 1.0, f'{same:.2f} of the pixels unchanged'


def test_browse_draw_clip_colours_follow_instance_ids():
    browse = load_browse_module()
    h, w, t = 40, 30, 3
    inputs = torch.zeros(t, 3, h, w, dtype=torch.uint8)
    frames = []
    for k in range(t):
        gt = InstanceData()
        # labels are drawn above the boxes, clear of the mask centres below
        gt.bboxes = torch.tensor([[2., 20., 12., 30.], [15., 22., 28., 36.]])
        gt.labels = torch.tensor([0, 1])
        gt.instances_ids = torch.tensor([7, 3 + k])  # id 7 in every frame
        masks = np.zeros((2, h, w), np.uint8)
        masks[0, 22:28, 4:10] = 1
        masks[1, 26:34, 18:26] = 1
        gt.masks = BitmapMasks(masks, h, w)
        sample = DetDataSample(metainfo=dict(img_shape=(h, w), frame_id=k))
        sample.gt_instances = gt
        frames.append(sample)
    track = TrackDataSample()
    track.video_data_samples = frames
    canvas = browse.draw_clip(
        dict(inputs=inputs, data_samples=track), ('a', 'b'))
    assert canvas.shape == (h, t * w, 3) and canvas.dtype == np.uint8
    # the mask centre of id 7 has the same colour in every frame
    centres = [tuple(canvas[25, k * w + 7]) for k in range(t)]
    assert len(set(centres)) == 1 and centres[0] != (0, 0, 0)
    # a different id (3 + k) gets a different colour
    others = [tuple(canvas[30, k * w + 22]) for k in range(t)]
    assert len(set(others)) == t
    # id_color: hue id x 0.618034 (mod 1), saturation 0.85, value 1, BGR;
    # id 7: hue 0.32624, sector 1 (f 0.95743): r = 1 - 0.85 x 0.95743 =
    # 0.1862, g = 1, b = 1 - 0.85 = 0.15 -> (int(38.25), 255, int(47.48))
    assert browse.id_color(7) == (38, 255, 47)
    assert browse.id_color(np.int64(7)) == (38, 255, 47)  # as ids come
    # id 0: hue 0 (red) -> r = 1, g = b = 0.15; id 1: hue 0.61803, sector
    # 3 (f 0.70820): r = 0.15, g = 1 - 0.85 x 0.70820 = 0.3980, b = 1
    assert browse.id_color(0) == (38, 38, 255)
    assert browse.id_color(1) == (255, 101, 38)
    # the mask of id 7 is that colour at half opacity over the black frames
    assert centres[0] == (19, 127, 23)
    colors = [browse.id_color(i) for i in range(20)]
    assert len(set(colors)) == 20  # distinct ids, distinct colours
    for c in colors:  # bright: 3 ints, one 255 (value 1), the least 38
        assert len(c) == 3 and all(type(v) is int for v in c)
        assert max(c) == 255 and min(c) == 38
    # float inputs from PhotoMetricDistortion are accepted too
    canvas_f = browse.draw_clip(
        dict(inputs=inputs.float(), data_samples=track), ('a', 'b'))
    assert np.array_equal(canvas, canvas_f)


def test_r50_ytvis19_config_trains_one_iteration_on_cpu(tmp_path):
    """The real R50 YouTube-VIS 2019 config with a tiny data override runs
    one training iteration on CPU (no downloads: pretrained init and
    load_from switched off; SynthVIS stands in for the data)."""
    root = tmp_path / 'data'
    generate_synthvis(
        str(root),
        train_videos=1,
        val_videos=1,
        frames=(1, 1),
        size=(64, 96),
        seed=0)
    work_dir = tmp_path / 'work'
    data = []
    for loader, split in (('train', 'train'), ('val', 'valid'), ('test',
                                                                 'valid')):
        ds = f'{loader}_dataloader.dataset.'
        data += [
            f'{ds}type=SynthVISDataset', f'{ds}data_root={root}',
            f'{ds}ann_file=annotations/{split}.json',
            f'{ds}data_prefix.img_path={split}/JPEGImages'
        ]
    proc = run_tool([
        sys.executable,
        TRAIN,
        'configs/cico_yolact_r50_ytvis19.py',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *data,
        'model.bbox_head.num_classes=6',
        'model.mask_head.num_classes=6',
        'model.backbone.init_cfg=None',
        'model.init_cfg=None',
        'load_from=None',
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        # the final validation's export stays in the test's folder (the
        # config's default is the user's work_dirs/)
        f'val_evaluator.outfile_prefix={tmp_path}/results'
    ])
    assert_ok(proc)
    logs = '\n'.join(run_logs(work_dir))
    assert 'Epoch(train) [1][1/1]' in logs and 'loss_mask' in logs
    assert (work_dir / 'epoch_1.pth').is_file()


def test_quickstart_end_to_end_small(tmp_path):
    """tools/quickstart.sh with a tiny SynthVIS and a 2-iteration schedule:
    every step runs and leaves its output; a second run skips the work."""
    data, work = tmp_path / 'data', tmp_path / 'work'
    opts = ' '.join([
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'model.test_cfg.score_thr=0.0',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.persistent_workers=False'
    ])
    env = dict(
        CICO_DATA=str(data),
        CICO_WORK=str(work),
        CICO_SYNTHVIS_ARGS='--train-videos 2 --val-videos 1 --frames 4 5 '
        '--size 64 96 --seed 0',
        CICO_OPTIONS=opts)
    proc = run_tool(['bash', 'tools/quickstart.sh'], env=env, timeout=900)
    assert_ok(proc)
    for step in range(1, 7):
        assert f'[quickstart] {step}/6' in proc.stdout
    assert len(list((work / 'browse').glob('*.png'))) == 4
    assert (work / 'synthvis_valid.submission_file.zip').is_file()
    assert (work / 'demo.mp4').stat().st_size > 0
    assert 'youtube_vis/segm_mAP' in proc.stdout
    again = run_tool(['bash', 'tools/quickstart.sh'], env=env, timeout=900)
    assert_ok(again)
    assert 'SynthVIS already in' in again.stdout
    assert 'already trained' in again.stdout


def test_dist_train_of_the_main_config(tmp_path):
    """``dist_train.sh configs/cico_yolact_r50_ytvis19.py 2``: the authors'
    recipe (R50, their matcher, losses, augmentation, key-frame epoch) end
    to end on CPU, data relocated by --cfg-options to a 4-frame SynthVIS
    video: 4 key frames over 2 ranks of 1 clip = one epoch of 2
    iterations, finite losses under the authors' term names."""
    root = tmp_path / 'synthvis'
    generate_synthvis(
        str(root),
        train_videos=1,
        val_videos=1,
        frames=(4, 4),
        size=FRAME_HW,
        seed=0)
    work_dir = tmp_path / 'work'
    opts = []
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader',
                                                          'valid')):
        opts += [
            f'{loader}.dataset.type=SynthVISDataset',
            f'{loader}.dataset.data_root={root}/',
            f'{loader}.dataset.ann_file=annotations/{split}.json',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    opts += [
        'val_dataloader.dataset.data_prefix.img_path=valid/JPEGImages',
        'train_dataloader.dataset.pipeline.1.transforms.3.scale='
        f'{SCALE}', 'train_dataloader.batch_size=1',
        'model.bbox_head.num_classes=6', 'model.mask_head.num_classes=6',
        'model.init_cfg=None', 'model.backbone.init_cfg=None',
        'train_cfg.max_epochs=1', 'train_cfg.val_begin=2',
        'default_hooks.logger.interval=1', 'randomness.seed=0'
    ]
    proc = run_tool([
        'bash', 'tools/dist_train.sh', 'configs/cico_yolact_r50_ytvis19.py',
        '2', '--work-dir',
        str(work_dir), '--cfg-options', *opts
    ],
                    env=dist_env())
    assert_ok(proc)
    assert (work_dir / 'epoch_1.pth').is_file()
    log = run_logs(work_dir)[-1]
    assert 'Distributed training: True' in log
    assert "type='ForcedMatchAssigner'" in log
    assert "type='ClipExpand'" in log and "type='KeyFrameSampler'" in log
    steps = re.findall(
        r'Epoch\(train\) \[1\]\[(\d)/2\].*?loss: ([\d.]+)'
        r'  loss_cls: ([\d.]+)  loss_bbox: ([\d.]+)  '
        r'loss_diou: ([\d.]+)  loss_quality: ([\d.]+)  '
        r'loss_track: ([\d.]+)  loss_mask: ([\d.]+)', log)
    assert [s[0] for s in steps] == ['1', '2'], log[-3000:]
    for step in steps:
        assert all(0 < float(v) < 1e4 for v in step[1:])
