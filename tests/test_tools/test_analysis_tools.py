"""tools/analysis_tools: run_ablations (row selection, shared training,
the markdown table), plot_loss (table and figure from a scalars log) and
benchmark (one run of two models, their ratio)."""
import importlib.util
import json
import pickle
import re
import sys
from pathlib import Path

import pytest

from tests.tool_output import TIME, assert_ratio_of_printed_times, usage_error

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
    assert '| table2_overlap_0 | 1 | 25.0 | 50.0 | 12.5 | 30.0 | 40.0 |' in out
    assert '| table2_overlap_1 | 1 | 35.0 | 50.0 | 12.5 | 30.0 | 40.0 |' in out


def test_seeds_and_base_runs(tmp_path, capsys, monkeypatch):
    """Test-time rows are tested on the base's finished runs, one per seed
    (randomness.seed=k passed), and tabulated as mean ± sample std."""
    ra = load_tool('run_ablations')
    calls = []

    def fake_run(cmd, env, log):
        calls.append(cmd)
        assert cmd[1] == 'tools/test.py', 'nothing may be trained'
        out = cmd[cmd.index('--out') + 1]
        seed = int(cmd[-1].split('=')[1])
        overlap = int(cmd[2][-4])  # table2_overlap_<k>.py
        with open(out, 'wb') as f:
            pickle.dump(
                {'youtube_vis/segm_mAP': 0.3 + seed / 10 + overlap / 100}, f)

    monkeypatch.setattr(ra, 'run', fake_run)
    for k in range(2):
        run_dir = tmp_path / f'base_seed{k}'
        run_dir.mkdir()
        (run_dir / 'iter_6.pth').write_bytes(b'')
        (run_dir / 'last_checkpoint').write_text(str(run_dir / 'iter_6.pth'))
    ra.main([
        '--rows', 'table2_overlap_0', 'table2_overlap_2', '--base', BASE,
        '--work-dir',
        str(tmp_path / 'abl'), '--seeds', '2', '--base-runs',
        str(tmp_path / 'base_seed{seed}')
    ])
    assert len(calls) == 4
    assert [c[3] for c in calls] == [
        str(tmp_path / f'base_seed{k}' / 'iter_6.pth') for k in (0, 0, 1, 1)
    ]
    assert all('--trust-checkpoint' in c for c in calls)
    out = capsys.readouterr().out
    # AP 30 and 40 (+ overlap / 100): mean 35.0, sample std 7.1
    assert '| table2_overlap_0 | 2 | 35.0 ± 7.1 | - | - | - | - |' in out
    assert '| table2_overlap_2 | 2 | 37.0 ± 7.1 | - | - | - | - |' in out
    assert 'mean ± sample std over seeds 0-1' in out
    # a training row is not the base's: it would be trained
    calls.clear()
    with pytest.raises(AssertionError, match='nothing may be trained'):
        ra.main([
            '--rows', 'table1b_cph_2d', '--base', BASE, '--work-dir',
            str(tmp_path / 'abl2'), '--seeds', '1', '--base-runs',
            str(tmp_path / 'base_seed{seed}')
        ])
    with pytest.raises(SystemExit, match='has no last_checkpoint'):
        ra.main([
            '--rows', 'table2_overlap_0', '--base', BASE, '--work-dir',
            str(tmp_path / 'abl3'), '--seeds', '3', '--base-runs',
            str(tmp_path / 'base_seed{seed}')
        ])


def test_test_cfg_options_retest_finished_rows(tmp_path, capsys, monkeypatch):
    """--test-cfg-options retest trained rows without training them again:
    the options come after the seed, the metrics go to their own file (the
    default test's stay), and a second call tests nothing."""
    ra = load_tool('run_ablations')
    env = ra.row_env(str(REPO_ROOT / BASE))
    calls = []

    def fake_run(cmd, env, log):
        calls.append(cmd)
        assert cmd[1] == 'tools/test.py', 'nothing may be trained'
        with open(cmd[cmd.index('--out') + 1], 'wb') as f:
            pickle.dump({'youtube_vis/segm_mAP': 0.25}, f)

    monkeypatch.setattr(ra, 'run', fake_run)
    work = tmp_path / 'abl' / 'seed0'
    key = ra.training_key(
        str(REPO_ROOT / 'configs/ablations/table1b_cph_2d.py'), env,
        ['randomness.seed=0'])
    train_dir = work / f'train_{key}'
    train_dir.mkdir(parents=True)
    (train_dir / 'iter_6.pth').write_bytes(b'')
    (train_dir / 'last_checkpoint').write_text(str(train_dir / 'iter_6.pth'))
    (train_dir / 'DONE').write_text('table1b_cph_2d')
    with open(work / 'table1b_cph_2d_metrics.pkl', 'wb') as f:
        pickle.dump({'youtube_vis/segm_mAP': 0.4}, f)
    big = 'test_dataloader.dataset.data_root=data/big/'
    argv = [
        '--rows', 'table1b_cph_2d', '--base', BASE, '--work-dir',
        str(tmp_path / 'abl'), '--seeds', '1', '--test-cfg-options', big,
        '--test-tag', 'valid120'
    ]
    ra.main(argv)
    assert len(calls) == 1
    cmd = calls[0]
    assert cmd[3] == str(train_dir / 'iter_6.pth')
    assert cmd[-2:] == ['randomness.seed=0', big]
    assert cmd[cmd.index('--out') + 1] == str(
        work / 'table1b_cph_2d_valid120_metrics.pkl')
    out = capsys.readouterr().out
    assert '| table1b_cph_2d | 1 | 25.0 |' in out
    assert f'tests with {big}' in out
    ra.main(argv)  # cached
    assert len(calls) == 1
    with open(work / 'table1b_cph_2d_metrics.pkl', 'rb') as f:
        assert pickle.load(f) == {'youtube_vis/segm_mAP': 0.4}
    # without a tag the file name carries a hash of the options
    ra.main(argv[:-2])
    assert len(calls) == 2
    assert re.search(r'table1b_cph_2d_[0-9a-f]{8}_metrics\.pkl$',
                     calls[1][calls[1].index('--out') + 1])
    assert 'error: --test-tag needs --test-cfg-options' in usage_error(
        capsys, ra.parse_args, ['--rows', 'table2', '--test-tag', 'x'])
    assert 'error: --test-tag takes letters, digits and _ only' in \
        usage_error(capsys, ra.parse_args, [
            '--rows', 'table2', '--test-cfg-options', big, '--test-tag', 'a/b'
        ])


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
    # the config's clip_schedule: the authors' end the 5 frames with
    # [4, 4, 4], each clip emitting its first two frames
    assert bm.cico_clip_schedule(cfg) == 'project'
    cfg.test_dataloader.dataset.clip_schedule = 'authors'
    assert bm.cico_clip_schedule(cfg) == 'authors'
    rec = Recorder()
    _, emitted = bm.time_cico(rec, cfg,
                              torch.zeros(5, 3, 8, 8, dtype=torch.uint8), 0,
                              'cpu')
    assert emitted == 5
    assert [[m['frame_id'] for m in c] for c in rec.clips] == [[0, 1, 2],
                                                               [2, 3, 4],
                                                               [4, 4, 4]]
    assert [[m['is_output_frame'] for m in c]
            for c in rec.clips] == [[True, True, False], [True, True, False],
                                    [True, False, False]]


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


def test_benchmark_two_models_in_one_run(tool_runner, monkeypatch, capsys):
    # known times (measure() stubbed): each ratio is the first model's time
    # over the second's, printed with 2 decimals
    bm = load_tool('benchmark')
    secs = {None: 0.040, 'net.onnx': 0.030, 'fifo.py': 0.016}

    def fake_measure(config, *args, onnx=None, **kwargs):
        sec = secs[onnx or (config if config == 'fifo.py' else None)]
        return dict(
            params=1e6,
            sec_per_frame=sec,
            frames=3,
            peak_mib=1.,
            conv_gmacs={})

    monkeypatch.setattr(bm, 'measure', fake_measure)
    monkeypatch.setattr(sys, 'argv', [
        'benchmark.py',
        str(REPO_ROOT / BASE), '--onnx', 'net.onnx', '--compare', 'fifo.py'
    ])
    bm.main()
    out = capsys.readouterr().out
    for line in ('cico_yolact_r18_synthvis: 40 ms per output frame (25.00 '
                 'frames/s)',
                 'cico_yolact_r18_synthvis (onnxruntime): 30 ms per output '
                 'frame (33.33 frames/s)',
                 'ratio onnxruntime / PyTorch: 0.75x time per output frame',
                 'fifo: 16 ms per output frame (62.50 frames/s)',
                 'ratio cico_yolact_r18_synthvis / fifo: 2.50x time per '
                 'output frame'):
        assert line in out, out
    times = re.findall(TIME, out)
    assert len(times) == 3
    assert_ratio_of_printed_times('0.75', times[1], times[0])
    assert_ratio_of_printed_times('2.50', times[0], times[2])

    proc = tool_runner('analysis_tools/benchmark.py', BASE, '--num-clips', '1',
                       '--warmup', '0', '--input-size', '64', '96',
                       '--compare', BASE, '--compare-cfg-options',
                       'model.test_cfg.nms_pre=5')
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = re.findall(
        r'cico_yolact_r18_synthvis: ' + TIME + r' over (\d+) '
        r'frames.*peak memory (\d+) MiB; ([\d.]+) M parameters; '
        r'[\d.]+ conv GMACs per output frame', proc.stdout)
    assert len(lines) == 2, proc.stdout
    for ms, _, frames, mib, params in lines:
        assert int(ms) > 0 and int(mib) > 0
        assert int(frames) == 3  # one T=3 clip, every frame emitted
        assert float(params) == pytest.approx(float(lines[0][4]))
    ratio = re.findall(
        r'ratio cico_yolact_r18_synthvis / cico_yolact_r18_synthvis: '
        r'(\d+\.\d\d)x time per output frame', proc.stdout)
    assert len(ratio) == 1, proc.stdout
    # the first model's time over the --compare model's, as printed
    assert_ratio_of_printed_times(ratio[0], lines[0][:2], lines[1][:2])


# ------------------------------------------------------- analyze_vis_errors
def _vis_jsons(tmp_path):
    """One video of 2 frames, one 4x4 object; results: the object (tp) and
    a higher-scored track of the empty corner (background)."""
    import numpy as np
    from pycocotools import mask as mask_utils

    def rle(r0, c0):
        m = np.zeros((8, 8), np.uint8)
        m[r0:r0 + 4, c0:c0 + 4] = 1
        enc = mask_utils.encode(np.asfortranarray(m))
        enc['counts'] = enc['counts'].decode()
        return enc

    gt = dict(
        videos=[dict(id=1, height=8, width=8, length=2)],
        categories=[dict(id=1, name='a')],
        annotations=[
            dict(
                id=1,
                video_id=1,
                category_id=1,
                iscrowd=0,
                height=8,
                width=8,
                segmentations=[rle(0, 0)] * 2,
                areas=[16, 16],
                bboxes=[[0, 0, 4, 4]] * 2)
        ])
    preds = [
        dict(
            video_id=1,
            category_id=1,
            score=0.9,
            segmentations=[rle(4, 4)] * 2),
        dict(
            video_id=1,
            category_id=1,
            score=0.5,
            segmentations=[rle(0, 0)] * 2)
    ]
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'results.json').write_text(json.dumps(preds))
    return tmp_path / 'gt.json', tmp_path / 'run' / 'results.json'


def test_analyze_vis_errors_prints_and_writes_the_analysis(tmp_path, capsys):
    tool = load_tool('analyze_vis_errors')
    gt, res = _vis_jsons(tmp_path)
    out = tmp_path / 'errors.json'
    assert tool.main(
        [str(gt),
         str(res),
         str(res), '--label', 'x', 'y', '--out',
         str(out)]) == 0
    text = capsys.readouterr().out
    # 1 track of each kind, the background one scored 0.9; AP 50 as is
    # (precision 1/2 at recall 1), 100 without it or with perfect ranking
    assert ('| x | 2.0 | 0/1 | 1 (0.50) | 0 (-) | 0 (-) | 0 (-) | 0 (-) | '
            '1 (0.90) |') in text
    assert ('| y | 50.0 / 50.0 | 50.0 / 50.0 | 50.0 / 50.0 | 50.0 / 50.0 | '
            '50.0 / 50.0 | 100.0 / 100.0 | 100.0 / 100.0 |') in text
    assert '| x | - | - | - | - | 0.00 |' in text  # separation
    saved = json.loads(out.read_text())
    assert saved['x']['separation']['background'] == 0.0
    assert saved['y']['ap']['ranking'] == pytest.approx([100., 100.])


def test_analyze_vis_errors_names_bad_results(tmp_path, capsys):
    tool = load_tool('analyze_vis_errors')
    gt, res = _vis_jsons(tmp_path)
    res.write_text(json.dumps([{'video_id': 1, 'score': 0.5}]))
    with pytest.raises(
            ValueError,
            match=r"results.json: track 0 lacks \['category_id', "
            r"'segmentations'\]"):
        tool.main([str(gt), str(res)])
    with pytest.raises(FileNotFoundError, match='results file not found'):
        tool.main([str(gt), str(tmp_path / 'none.json')])
    assert 'error: 2 --label for 1 results files' in usage_error(
        capsys, tool.parse_args,
        [str(gt), str(res), '--label', 'a', 'b'])
