"""tools/analysis_tools: run_ablations (row selection, shared training,
the markdown table), plot_loss (table and figure from a scalars log) and
benchmark (one run of two models, their ratio)."""
import importlib.util
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / 'tools' / 'analysis_tools'
BASE = 'configs/cico_yolact_r18_synthvis.py'


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ run_ablations
def test_rows_and_shared_training():
    ra = load_tool('run_ablations')
    assert ra.select_rows(['table2']) == [
        'table2_overlap_0', 'table2_overlap_1', 'table2_overlap_2'
    ]
    with pytest.raises(SystemExit, match="no ablation matches 'table9'"):
        ra.select_rows(['table9'])
    env = ra.row_env(str(REPO_ROOT / BASE))
    assert env['CICO_ABLATION_BASE'] == '../cico_yolact_r18_synthvis.py'
    key = {
        row:
        ra.training_key(
            str(REPO_ROOT / 'configs/ablations' / f'{row}.py'), env, [])
        for row in ('table2_overlap_0', 'table2_overlap_2', 'table1b_cph_2d')
    }
    # T_o is a test-time key: one training serves all Table 2 rows
    assert key['table2_overlap_0'] == key['table2_overlap_2']
    assert key['table1b_cph_2d'] != key['table2_overlap_0']
    # a training override changes the key, so nothing stale is reused
    path = str(REPO_ROOT / 'configs/ablations/table2_overlap_0.py')
    assert ra.training_key(
        path, env, ['train_cfg.max_iters=5']) != key['table2_overlap_0']


def test_finished_rows_are_reused_and_tabulated(tmp_path, capsys):
    ra = load_tool('run_ablations')
    env = ra.row_env(str(REPO_ROOT / BASE))
    work = tmp_path / 'abl'
    rows = ['table2_overlap_0', 'table2_overlap_1']
    for k, row in enumerate(rows):
        key = ra.training_key(
            str(REPO_ROOT / 'configs/ablations' / f'{row}.py'), env, [])
        train_dir = work / f'train_{key}'
        train_dir.mkdir(parents=True, exist_ok=True)
        (train_dir / 'iter_8.pth').write_bytes(b'')
        (train_dir / 'last_checkpoint').write_text(
            str(train_dir / 'iter_8.pth'))
        (train_dir / 'DONE').write_text(row)
        metrics = {
            'youtube_vis/segm_mAP': 0.25 + k / 10,
            'youtube_vis/segm_mAP_50': 0.5,
            'youtube_vis/segm_mAP_75': 0.125,
            'youtube_vis/segm_AR@1': 0.3,
            'youtube_vis/segm_AR@10': 0.4
        }
        with open(work / f'{row}_metrics.pkl', 'wb') as f:
            pickle.dump(metrics, f)
    # nothing is trained or tested again (that would fail on empty files)
    ra.main([
        '--rows', 'table2_overlap_0', 'table2_overlap_1', '--base', BASE,
        '--work-dir',
        str(work)
    ])
    out = capsys.readouterr().out
    assert '[ablations]' not in out
    assert '| table2_overlap_0 | 25.0 | 50.0 | 12.5 | 30.0 | 40.0 |' in out
    assert '| table2_overlap_1 | 35.0 | 50.0 | 12.5 | 30.0 | 40.0 |' in out


# ----------------------------------------------------------------- plot_loss
def test_plot_loss_table_validation_and_figure(tmp_path, capsys):
    log = tmp_path / 'scalars.json'
    records = [
        dict(iter=100, loss=4.0, loss_mask=2.0),
        dict(iter=200, loss=3.0, loss_mask=1.5),
        {
            'youtube_vis/segm_mAP': 0.125,
            'step': 200
        },
        dict(iter=300, loss=2.0, loss_mask=1.0),
    ]
    log.write_text('\n'.join(json.dumps(r) for r in records))
    out_png = tmp_path / 'loss.png'
    load_tool('plot_loss').main([
        str(log), '--keys', 'loss', 'loss_mask', '--every', '200', '--out',
        str(out_png)
    ])
    out = capsys.readouterr().out
    assert '| 200 | 3.000 | 1.500 |' in out
    assert '| 300 | 2.000 | 1.000 |' in out  # the last record is always shown
    assert '| 100 |' not in out
    assert 'validation at 200: segm_mAP 0.125' in out
    assert out_png.stat().st_size > 1000


# ----------------------------------------------------------------- benchmark
def test_benchmark_clip_loop_is_the_datasets():
    """The synthetic clip loop lays clips out as the dataset does: its T_o
    default is default_clip_overlap (1 for T > 1), and each frame carries the
    dataset's clip metainfo."""
    import torch
    from mmengine.config import Config
    bm = load_tool('benchmark')
    cfg = Config(
        dict(
            model=dict(clip_len=3),
            test_dataloader=dict(dataset=dict(clip_len=3))))
    assert bm.cico_clip_loop(cfg) == (3, 1)
    cfg.test_dataloader.dataset.clip_overlap = 0
    assert bm.cico_clip_loop(cfg) == (3, 0)
    frame_model = Config(
        dict(model=dict(clip_len=1), test_dataloader=dict(dataset=dict())))
    assert bm.cico_clip_loop(frame_model) == (1, 0)

    class Recorder:

        def __init__(self):
            self.clips = []

        def test_step(self, data):
            assert tuple(data['inputs'][0].shape) == (3, 3, 8, 8)
            self.clips.append([
                s.metainfo for s in data['data_samples'][0].video_data_samples
            ])

    cfg.test_dataloader.dataset.pop('clip_overlap')  # the default: T_o = 1
    rec = Recorder()
    _, emitted = bm.time_cico(rec, cfg,
                              torch.zeros(5, 3, 8, 8, dtype=torch.uint8), 0,
                              'cpu')
    assert emitted == 5
    assert [[m['frame_id'] for m in c] for c in rec.clips] == [[0, 1, 2],
                                                               [2, 3, 4]]
    assert [[m['is_new_frame'] for m in c]
            for c in rec.clips] == [[True] * 3, [False, True, True]]
    assert [[m['is_output_frame'] for m in c]
            for c in rec.clips] == [[True, True, False], [True] * 3]
    assert [m['is_last_clip'] for c in rec.clips
            for m in c] == [False] * 3 + [True] * 3
    assert {(m['video_length'], m['ori_video_length'])
            for c in rec.clips
            for m in c} == {(3, 5)}


def test_benchmark_counts_conv_macs_by_hand():
    """Conv2d(3, 4, 3) on 8x8: 4*6*6 outputs x 3*9 = 3888 MACs; grouped
    Conv3d(4, 2, 3, groups=2) on its 4x6x6x6 -> 2*4*4*4 outputs x 2*27 =
    6912; nothing while disabled."""
    import torch
    bm = load_tool('benchmark')
    c2 = torch.nn.Conv2d(3, 4, 3)
    c3 = torch.nn.Conv3d(4, 2, 3, groups=2)
    net = torch.nn.ModuleList([c2, c3])
    macs = bm.ConvMacs(net)
    y = c2(torch.zeros(6, 3, 8, 8))  # 6 frames
    assert macs.macs == 0
    macs.enabled = True
    c2(torch.zeros(1, 3, 8, 8))
    assert macs.macs == 3888
    c3(y.transpose(0, 1)[None])
    assert macs.macs == 3888 + 6912
    assert macs.by_part == {'0': 3888, '1': 6912}  # by top-level child


def test_benchmark_two_models_in_one_run():
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([
        sys.executable,
        str(TOOLS / 'benchmark.py'), BASE, '--num-clips', '1', '--warmup', '0',
        '--input-size', '64', '96', '--compare', BASE, '--compare-cfg-options',
        'model.test_cfg.nms_pre=5'
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = re.findall(
        r'cico_yolact_r18_synthvis: (\d+) ms per output frame .* over (\d+) '
        r'frames.*peak memory (\d+) MiB; ([\d.]+) M parameters; '
        r'[\d.]+ conv GMACs per output frame', proc.stdout)
    assert len(lines) == 2, proc.stdout
    for ms, frames, mib, params in lines:
        assert int(ms) > 0 and int(mib) > 0
        assert int(frames) == 3  # one T=3 clip, every frame emitted
        assert float(params) == pytest.approx(float(lines[0][3]))
    ratio = re.search(r'ratio .* ([\d.]+)x time per output frame', proc.stdout)
    assert ratio and float(ratio.group(1)) > 0
