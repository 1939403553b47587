"""tools/analysis_tools/run_synthvis_protocol.py: the protocol's configs,
the validation curves of resumed runs, convergence and the table."""
import argparse
import importlib.util
import json
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction

from tests.tool_output import usage_error

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location(
    'run_synthvis_protocol',
    REPO_ROOT / 'tools' / 'analysis_tools' / 'run_synthvis_protocol.py')
protocol = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(protocol)


@pytest.mark.parametrize('fcn', ['yolact', 'condinst'])
def test_protocol_configs_share_schedule_and_frames_per_step(fcn):
    cfgs = {
        row: Config.fromfile(protocol.config_path(fcn, row))
        for row in ('stage1', 'cico', 'fifo', 'authors')
    }
    stage1, cico, fifo = cfgs['stage1'], cfgs['cico'], cfgs['fifo']
    authors = cfgs['authors']
    for cfg in cfgs.values():
        loader = cfg.train_dataloader
        # 12 frames per step everywhere: 4 clips x 3 or 12 x 1
        assert loader.batch_size * cfg.model.clip_len == 12
        assert loader.dataset.data_root == 'data/synthvis_protocol/'
        fcn_type = cfg.model.mask_head.mask_fcn.type
        assert fcn_type == ('ClipLincombMask'
                            if fcn == 'yolact' else 'ClipCondInstFCN')
    assert (cico.model.clip_len, fifo.model.clip_len) == (3, 1)
    assert cico.model.bbox_head.box_tower_3d and cico.model.mask_head.is_3d
    assert not (fifo.model.bbox_head.box_tower_3d
                or fifo.model.mask_head.is_3d)
    assert stage1.model.init_cfg is None
    for cfg in (cico, fifo):
        assert cfg.model.init_cfg.type == 'InflatedPretrained'
        assert f'/{fcn}/stage1/' in cfg.model.init_cfg.checkpoint
    assert cico.train_cfg == fifo.train_cfg == authors.train_cfg
    assert cico.param_scheduler == fifo.param_scheduler == \
        authors.param_scheduler
    assert cico.optim_wrapper == fifo.optim_wrapper == stage1.optim_wrapper \
        == authors.optim_wrapper
    # the authors' recipe on CiCo's network, from the same stage 1
    assert authors.model.init_cfg.checkpoint == cico.model.init_cfg.checkpoint
    for part in ('backbone', 'neck', 'data_preprocessor'):
        assert authors.model[part] == cico.model[part]
    assert authors.model.mask_head.mask_fcn == cico.model.mask_head.mask_fcn
    assert authors.model.train_cfg.assigner.type == 'ForcedMatchAssigner'
    assert authors.model.tracker.type == 'ReferenceClipTracker'
    assert authors.train_dataloader.sampler.type == 'KeyFrameSampler'
    assert stage1.train_cfg.max_iters > cico.train_cfg.max_iters
    # the frame-level stage-1 model is the FiFo model (same architecture)
    assert stage1.model.bbox_head == fifo.model.bbox_head
    assert stage1.model.mask_head == fifo.model.mask_head


def write_scalars(work: Path, session: str, records: list) -> None:
    vis = work / session / 'vis_data'
    vis.mkdir(parents=True)
    with open(vis / 'scalars.json', 'w') as f:
        for rec in records:
            f.write(json.dumps(rec) + '\n')


def val(step: int, ap: float) -> dict:
    rec = {f'youtube_vis/{key}': ap / 100 for _, key in protocol.COLUMNS}
    return dict(rec, step=step)


def test_val_curve_merges_resumed_sessions(tmp_path):
    write_scalars(tmp_path, '20260101_000000', [
        dict(loss=1.0, step=10),
        val(100, 5.0),
        val(200, 9.0),
    ])
    # resumed from iteration 200: validates 200 again, then 300
    write_scalars(tmp_path, '20260101_010000', [val(200, 9.5), val(300, 12.)])
    curve = protocol.val_curve(str(tmp_path))
    assert [it for it, _ in curve] == [100, 200, 300]
    assert curve[1][1]['AP'] == pytest.approx(9.5)
    assert curve[2][1]['AR10'] == pytest.approx(12.0)


def test_train_sums_the_time_of_resumed_sessions(tmp_path, monkeypatch):
    """An interrupted session's seconds count; the resumed session passes
    --resume and DONE records the total; a finished run is not retrained."""
    clock = iter([100., 130., 500., 545.])
    monkeypatch.setattr(protocol.time, 'time', lambda: next(clock))
    calls = []

    def fake_run(cmd, env, log):
        calls.append(cmd)
        if len(calls) == 1:
            (tmp_path / 'last_checkpoint').write_text('iter_10.pth')
            raise SystemExit('killed')

    monkeypatch.setattr(protocol, 'run', fake_run)
    with pytest.raises(SystemExit, match='^killed$'):  # the session's own
        protocol.train('c.py', str(tmp_path), ['a=1'], {}, 'log')
    assert protocol.run_seconds(str(tmp_path)) == 30
    assert not (tmp_path / 'DONE').exists()
    protocol.train('c.py', str(tmp_path), ['a=1'], {}, 'log')
    assert '--resume' not in calls[0] and '--resume' in calls[1]
    assert (tmp_path / 'DONE').read_text() == 'c.py\nseconds 75\n'
    protocol.train('c.py', str(tmp_path), ['a=1'], {}, 'log')
    assert len(calls) == 2


def test_is_flat_over_the_last_fifth():
    """Converged: AP within 1 point over iterations >= 80% of the run."""
    aps = [1, 5, 9, 12, 20, 30, 35, 39.6, 40.5, 40]
    curve = [(100 * (i + 1), dict(AP=ap)) for i, ap in enumerate(aps)]
    assert protocol.is_flat(curve)  # 800..1000: 39.6 .. 40.5
    curve[7] = (800, dict(AP=38.0))  # 38 .. 40.5: still rising
    assert not protocol.is_flat(curve)
    # earlier points do not count
    curve[7], curve[6] = (800, dict(AP=40.0)), (700, dict(AP=0.0))
    assert protocol.is_flat(curve)


def test_table_means_spreads_and_difference():
    runs = dict(
        stage1=[dict(AP=10.0, AP50=20.0, AP75=5.0, AR1=8.0, AR10=15.0)],
        cico=[
            dict(AP=a, AP50=0., AP75=0., AR1=0., AR10=0.)
            for a in (30., 32., 34.)
        ],
        fifo=[
            dict(AP=a, AP50=0., AP75=0., AR1=0., AR10=0.)
            for a in (25., 26., 27.)
        ])
    text = protocol.table(runs)
    lines = text.splitlines()
    assert lines[2].startswith('| stage 1') and '| 10.0 |' in lines[2]
    assert '| 32.0 ± 2.0 |' in lines[3]  # sample std of 30, 32, 34
    assert '| 26.0 ± 1.0 |' in lines[4]
    # 32 - 26, pooled std sqrt((4 + 1) / 2)
    assert '| +6.0 (pooled std 1.6) |' in lines[5]
    assert protocol.mean_std([3.0]) == (3.0, 0.0)


def test_plot_writes_a_png(tmp_path):
    curves = {
        'stage1': [(300, dict(AP=5.0)), (600, dict(AP=8.0))],
        'cico_seed0': [(100, dict(AP=9.0)), (200, dict(AP=11.0))],
        'fifo_seed0': [(100, dict(AP=8.0)), (200, dict(AP=9.0))]
    }
    out = str(tmp_path / 'curves.png')
    protocol.plot(curves, out)
    assert osp.getsize(out) > 1000


def test_seeds_must_not_be_negative(capsys):
    assert protocol.parse_args(['--fcn', 'yolact', '--seeds', '0']).seeds == 0
    assert 'error: --seeds must be >= 0' in usage_error(
        capsys, protocol.parse_args, ['--fcn', 'yolact', '--seeds', '-1'])


@pytest.mark.parametrize('fcn', ['yolact', 'condinst'])
def test_stage2_iters_stretches_the_schedule(fcn):
    """1,200 stage-2 iterations: LR steps at 70% and 90% (840, 1,080) and
    the first validation at half the run, like the configs' 600."""
    opts = protocol.stage2_schedule(fcn, 1200)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parsed = parser.parse_args(['--cfg-options', *opts]).cfg_options
    for variant in ('cico', 'fifo'):
        cfg = Config.fromfile(protocol.config_path(fcn, variant))
        assert cfg.train_cfg.max_iters == 600
        cfg.merge_from_dict(parsed)
        assert cfg.train_cfg.max_iters == 1200
        assert cfg.train_cfg.val_begin == 600
        assert cfg.train_cfg.val_interval == 100
        warmup, steps = cfg.param_scheduler
        assert (warmup.type, warmup.end) == ('LinearLR', 50)
        assert steps.milestones == [840, 1080] and steps.end == 1200


def test_stage2_iters_runs_beside_the_default_runs(tmp_path, monkeypatch,
                                                   capsys):
    """--stage2-iters 1200 trains into cico_seed0_1200it / fifo_seed0_1200it
    with the stretched schedule, from the same stage 1, and leaves the
    default runs' directories alone."""
    trained = []

    def fake_train(config, work_dir, options, env, log):
        trained.append((osp.basename(work_dir), options))

    monkeypatch.setattr(protocol, 'train', fake_train)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    args = protocol.parse_args([
        '--fcn', 'yolact', '--seeds', '1', '--stage2-iters', '1200',
        '--device', 'cpu', '--work-dir',
        str(tmp_path)
    ])
    out = protocol.run_protocol(args)
    names = [name for name, _ in trained]
    assert names == ['stage1', 'cico_seed0_1200it', 'fifo_seed0_1200it']
    assert sorted(
        out['curves']) == ['cico_seed0_1200it', 'fifo_seed0_1200it', 'stage1']
    for _, options in trained[1:]:
        assert 'train_cfg.max_iters=1200' in options
        assert 'model.init_cfg.checkpoint=stage1-x.pth' in options
    assert 'train_cfg.max_iters=1200' not in trained[0][1]
    assert 'error: --stage2-iters must be >= 100 (validation runs every ' \
        '100)' in usage_error(capsys, protocol.parse_args,
                              ['--fcn', 'yolact', '--stage2-iters', '50'])


def test_variants_run_the_authors_recipe_beside_cico(tmp_path, monkeypatch,
                                                     capsys):
    """--variants cico authors: the authors'-recipe runs (their config)
    beside CiCo's, no FiFo, and the table's difference row compares the
    two recipes."""
    trained = []

    def fake_train(config, work_dir, options, env, log):
        trained.append((osp.basename(work_dir), osp.basename(config)))
        finish_run(config, work_dir, options, env, log)

    monkeypatch.setattr(protocol, 'train', fake_train)
    fake_commands(monkeypatch, {})
    args = protocol.parse_args([
        '--fcn', 'yolact', '--seeds', '2', '--variants', 'cico', 'authors',
        '--device', 'cpu', '--work-dir',
        str(tmp_path)
    ])
    out = protocol.run_protocol(args)
    assert trained == [
        ('stage1', 'yolact_r18_stage1_frames.py'),
        ('cico_seed0', 'cico_yolact_r18_stage2_t3.py'),
        ('authors_seed0', 'cico_yolact_r18_stage2_t3_authors.py'),
        ('cico_seed1', 'cico_yolact_r18_stage2_t3.py'),
        ('authors_seed1', 'cico_yolact_r18_stage2_t3_authors.py')
    ]
    assert sorted(
        protocol.by_row({
            n: c[-1][1]
            for n, c in out['curves'].items()
        })) == ['authors', 'cico', 'stage1']
    zero = dict(AP50=0., AP75=0., AR1=0., AR10=0.)
    text = protocol.table(
        dict(
            cico=[dict(zero, AP=a) for a in (30., 32.)],
            authors=[dict(zero, AP=a) for a in (33., 33.)]))
    lines = text.splitlines()
    assert lines[3].startswith("| stage 2: CiCo, T = 3, the authors' recipe")
    # 33 - 31, pooled std sqrt((2 + 0) / 2)
    assert lines[4].startswith("| authors' recipe - project's recipe | | "
                               '+2.0 (pooled std 1.0) |')
    # (the list of choices after it is quoted differently by Python version)
    assert "error: argument --variants: invalid choice: 'mine'" in \
        usage_error(capsys, protocol.parse_args,
                    ['--fcn', 'yolact', '--variants', 'mine'])


def test_stage1_iters_continues_stage1_and_starts_stage2_from_it(
        tmp_path, monkeypatch, capsys):
    """--stage1-iters 3600: stage 1 is continued in stage1ext_3600it from
    a copy of stage 1's last checkpoint (so the run resumes it), validating
    every 200 iterations to 3600; stage 2 starts from the continued
    checkpoint, in runs named after it, and the table has both stage 1s."""
    trained = []
    aps = dict(stage1=31.6, stage1ext=33.2, cico=30.0, fifo=32.5)

    def fake_train(config, work_dir, options, env, log):
        name = osp.basename(work_dir)
        trained.append((name, config, options))
        if name == 'stage1ext_3600it':  # seeded with stage 1's checkpoint
            start = Path(work_dir, 'last_checkpoint').read_text()
            assert start == osp.join(work_dir, 'iter_2400.pth')
            assert Path(start).read_bytes() == b'stage 1 weights'
        last = 3600 if name.startswith('stage1ext') else 2400
        write_scalars(
            Path(work_dir), '20260101_000000',
            [val(last, aps[protocol.row_of(name)])])
        ckpt = Path(work_dir, f'iter_{last}.pth')
        ckpt.write_bytes(b'stage 1 weights')
        Path(work_dir, 'last_checkpoint').write_text(str(ckpt))

    monkeypatch.setattr(protocol, 'train', fake_train)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(protocol, 'publish_stage1',
                        lambda d: osp.basename(d) + '-x.pth')
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    protocol.main([
        '--fcn', 'yolact', '--seeds', '1', '--stage1-iters', '3600',
        '--device', 'cpu', '--work-dir',
        str(tmp_path)
    ])
    names = [name for name, _, _ in trained]
    assert names == [
        'stage1', 'stage1ext_3600it', 'cico_seed0_stage1-3600it',
        'fifo_seed0_stage1-3600it'
    ]
    _, config, options = trained[1]
    assert config == protocol.config_path('yolact', 'stage1')
    assert options[-2:] == [
        'train_cfg.max_iters=3600', 'train_cfg.val_interval=200'
    ]
    assert trained[0][2] == options[:-2]  # same data and seed as stage 1
    for _, _, options in trained[2:]:
        assert 'model.init_cfg.checkpoint=stage1ext_3600it-x.pth' in options
    printed = capsys.readouterr().out
    assert '| stage 1: frame-level (T = 1), frames as images | 1 | 31.6 |' \
        in printed
    assert ('| stage 1 continued at its final LR (--stage1-iters) | 1 | '
            '33.2 |') in printed
    assert '| CiCo - FiFo | | -2.5 (pooled std 0.0)' in printed
    assert (tmp_path / 'yolact' / 'results_stage1-3600it.json').is_file()
    with pytest.raises(SystemExit, match='more than stage 1'):
        protocol.main([
            '--fcn', 'yolact', '--seeds', '0', '--stage1-iters', '2400',
            '--work-dir',
            str(tmp_path / 'short')
        ])


def test_stage2_lr_sets_the_learning_rate_of_stage_2_only(
        tmp_path, monkeypatch, capsys):
    """--stage2-lr 1e-4: both stage-2 variants train with that peak LR in
    runs of their own (``_lr0.0001``); stage 1 keeps its LR."""
    trained = []

    def fake_train(config, work_dir, options, env, log):
        trained.append((osp.basename(work_dir), options))

    monkeypatch.setattr(protocol, 'train', fake_train)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    args = protocol.parse_args([
        '--fcn', 'condinst', '--seeds', '1', '--stage2-lr', '1e-4', '--device',
        'cpu', '--work-dir',
        str(tmp_path)
    ])
    protocol.run_protocol(args)
    assert [name for name, _ in trained
            ] == ['stage1', 'cico_seed0_lr0.0001', 'fifo_seed0_lr0.0001']
    lr = 'optim_wrapper.optimizer.lr=0.0001'
    assert [lr in options for _, options in trained] == [False, True, True]
    # the config's schedule scales with the optimizer's LR: warm-up from
    # a tenth of it, steps of x0.1
    cfg = Config.fromfile(protocol.config_path('condinst', 'cico'))
    cfg.merge_from_dict({'optim_wrapper.optimizer.lr': 1e-4})
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.param_scheduler[0].start_factor == 0.1
    assert cfg.param_scheduler[1].gamma == 0.1
    assert 'error: --stage2-lr must be > 0' in usage_error(
        capsys, protocol.parse_args, ['--fcn', 'yolact', '--stage2-lr', '0'])


def test_inflation_centre_changes_cico_only(tmp_path, monkeypatch, capsys):
    """--inflation centre: the CiCo run and its iteration-0 model are
    inflated with centre temporal weights, under names of their own; FiFo
    (nothing to inflate) is the default run, shared."""
    trained = []

    def fake_train(config, work_dir, options, env, log):
        trained.append((osp.basename(work_dir), options))
        finish_run(config, work_dir, options, env, log)

    monkeypatch.setattr(protocol, 'train', fake_train)
    commands = fake_commands(monkeypatch, {
        ('valid', 'cico_init_centre'): 35.2,
        ('valid', 'fifo_init'): 33.2
    })
    args = protocol.parse_args([
        '--fcn', 'condinst', '--seeds', '1', '--stage2-lr', '1e-4',
        '--inflation', 'centre', '--test-init', '--device', 'cpu',
        '--work-dir',
        str(tmp_path)
    ])
    out = protocol.run_protocol(args)
    centre = [
        'model.init_cfg.temporal_weights=centre',
        'model.init_cfg.cmh_temporal_weights=centre'
    ]
    assert [name for name, _ in trained] == [
        'stage1', 'cico_seed0_lr0.0001_centre', 'fifo_seed0_lr0.0001'
    ]
    assert [all(o in options for o in centre)
            for _, options in trained] == [False, True, False]
    made = {c[4]: c[5:] for c in commands if 'inflate_checkpoint' in c[1]}
    root = tmp_path / 'condinst'
    assert made == {
        str(root / 'cico_init_centre' / 'init.pth'):
        ['--cfg-options', *centre],
        str(root / 'fifo_init' / 'init.pth'): []
    }
    assert out['tests']['init'][1]['cico_init_centre']['AP'] == \
        pytest.approx(35.2)
    assert protocol.suffix(args) == '_lr0.0001_centre'  # results, curves
    assert "error: argument --inflation: invalid choice: 'mean'" in \
        usage_error(capsys, protocol.parse_args,
                    ['--fcn', 'yolact', '--inflation', 'mean'])


def test_first_seed_adds_a_seed_to_finished_ones(tmp_path, monkeypatch,
                                                 capsys):
    """--seeds 1 --first-seed 2 trains seed 2 only (with that seed); a later
    --seeds 3 trains seeds 0 and 1, keeps seed 2 and tables all three."""
    trained = []
    final = dict(
        cico_seed0=36.0,
        cico_seed1=37.0,
        cico_seed2=38.0,
        fifo_seed0=33.0,
        fifo_seed1=34.0,
        fifo_seed2=35.0)

    def fake_train(config, work_dir, options, env, log):
        name = osp.basename(work_dir)
        if osp.isfile(osp.join(work_dir, 'DONE')):
            return
        trained.append((name, options))
        write_scalars(
            Path(work_dir), '20260101_000000',
            [val(600, final.get(name, 30.0))])
        Path(work_dir, 'DONE').write_text('')

    monkeypatch.setattr(protocol, 'train', fake_train)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    common = [
        '--fcn', 'yolact', '--device', 'cpu', '--work-dir',
        str(tmp_path)
    ]
    protocol.main([*common, '--seeds', '1', '--first-seed', '2'])
    assert [(n, 'randomness.seed=2' in o)
            for n, o in trained] == [('stage1', False), ('cico_seed2', True),
                                     ('fifo_seed2', True)]
    assert 'yolact, seeds 2-2' in capsys.readouterr().out
    trained.clear()
    protocol.main([*common, '--seeds', '3'])
    assert [n for n, _ in trained
            ] == ['cico_seed0', 'fifo_seed0', 'cico_seed1', 'fifo_seed1']
    out = capsys.readouterr().out
    assert '| stage 2: CiCo, T = 3 | 3 | 37.0 ± 1.0 |' in out
    assert '| stage 2: FiFo, T = 1 | 3 | 34.0 ± 1.0 |' in out
    assert 'error: --first-seed must be >= 0' in usage_error(
        capsys, protocol.parse_args, [*common, '--first-seed', '-1'])


def finish_run(config, work_dir, options, env, log):
    """A stand-in for ``protocol.train``: a run with one validation (30 AP
    at iteration 600) and its last checkpoint, unless it is there."""
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return  # finished
    write_scalars(Path(work_dir), '20260101_000000', [val(600, 30.0)])
    Path(work_dir,
         'last_checkpoint').write_text(osp.join(work_dir, 'iter_600.pth'))


def write_test_metrics(cmd: list, aps: dict) -> None:
    """What a ``tools/test.py ... --out DIR/<tag>.json`` command of the
    protocol writes: every column at ``aps[(tag, run directory)]``."""
    out = cmd[cmd.index('--out') + 1]
    key = (osp.basename(out)[:-5], osp.basename(osp.dirname(out)))
    with open(out, 'w') as f:
        json.dump(
            {
                f'youtube_vis/{k}': aps[key] / 100
                for _, k in protocol.COLUMNS
            }, f)


def fake_commands(monkeypatch, aps: dict) -> list:
    """Stand-ins for the protocol's commands (no data, a fixed stage 1):
    the converter writes its output file, ``tools/test.py`` the metrics of
    :func:`write_test_metrics`; returns the list the commands go to."""
    commands = []

    def fake_run(cmd, env, log):
        commands.append(cmd)
        if cmd[1] == 'tools/model_converters/inflate_checkpoint.py':
            Path(cmd[4]).write_bytes(b'weights')
        else:
            write_test_metrics(cmd, aps)

    monkeypatch.setattr(protocol, 'run', fake_run)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a, **k: None)
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    return commands


def test_track_labels_tests_every_stage2_run_once(tmp_path, monkeypatch,
                                                  capsys):
    """--track-labels 6: each stage-2 run's last checkpoint is tested with
    class-agnostic NMS and 6 labels per track (once: the metrics are
    cached), and a second table of those metrics is printed."""
    aps = dict(cico_seed0=38.5, fifo_seed0=41.2)
    commands = []

    def fake_run(cmd, env, log):
        commands.append(cmd)
        out = cmd[cmd.index('--out') + 1]
        ap = aps[osp.basename(osp.dirname(out))] / 100
        with open(out, 'w') as f:
            json.dump({f'youtube_vis/{k}': ap for _, k in protocol.COLUMNS}, f)

    monkeypatch.setattr(protocol, 'train', finish_run)
    monkeypatch.setattr(protocol, 'run', fake_run)
    monkeypatch.setattr(protocol, 'ensure_data', lambda *a: None)
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    argv = [
        '--fcn', 'yolact', '--seeds', '1', '--device', 'cpu', '--work-dir',
        str(tmp_path), '--track-labels', '6'
    ]
    protocol.main(argv)
    assert len(commands) == 2
    for cmd, run in zip(commands, ('cico_seed0', 'fifo_seed0')):
        assert cmd[1] == 'tools/test.py'
        assert cmd[3] == str(tmp_path / 'yolact' / run / 'iter_600.pth')
        assert '--trust-checkpoint' in cmd
        assert cmd[-2:] == [
            'model.test_cfg.nms.class_agnostic=True',
            'test_evaluator.labels_per_track=6'
        ]
    printed = capsys.readouterr().out
    labelled = printed.split('with track-level labels (6 per track')[1]
    assert '| stage 2: CiCo, T = 3 | 1 | 38.5 |' in labelled
    assert '| stage 2: FiFo, T = 1 | 1 | 41.2 |' in labelled
    assert '| CiCo - FiFo | | -2.7 (pooled std 0.0)' in labelled
    assert 'stage 1' not in labelled
    protocol.main(argv)  # cached: no second test
    assert len(commands) == 2
    assert 'error: --track-labels needs K >= 1' in usage_error(
        capsys, protocol.parse_args,
        ['--fcn', 'yolact', '--track-labels', '0'])


def test_eval_videos_tests_every_run_on_the_larger_split(
        tmp_path, monkeypatch, capsys):
    """--eval-videos 120: the valid split is generated once with 120 videos
    (no train videos), every finished run's last checkpoint (stage 1
    included) is tested on it once, and with --track-labels the stage-2
    runs also with track labels there; one table per test."""
    aps = {
        ('valid120', 'stage1'): 30.0,
        ('valid120', 'cico_seed0'): 36.0,
        ('valid120', 'fifo_seed0'): 37.5,
        ('track_labels_k6', 'cico_seed0'): 38.5,
        ('track_labels_k6', 'fifo_seed0'): 41.2,
        ('valid120_track_labels_k6', 'cico_seed0'): 40.0,
        ('valid120_track_labels_k6', 'fifo_seed0'): 43.0,
    }
    commands, generated = [], []

    def fake_run(cmd, env, log):
        commands.append(cmd)
        write_test_metrics(cmd, aps)

    monkeypatch.setattr(protocol, 'train', finish_run)
    monkeypatch.setattr(protocol, 'run', fake_run)
    monkeypatch.setattr(
        protocol,
        'ensure_data',
        lambda data, env, log, val_videos=None: generated.append(
            (data, val_videos)))
    monkeypatch.setattr(protocol, 'publish_stage1', lambda d: 'stage1-x.pth')
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    argv = [
        '--fcn', 'yolact', '--seeds', '1', '--device', 'cpu', '--work-dir',
        str(tmp_path), '--data', 'data/sv', '--track-labels', '6',
        '--eval-videos', '120'
    ]
    protocol.main(argv)
    assert generated == [('data/sv', None), ('data/sv_valid120', 120)]
    tested = [(osp.basename(c[c.index('--out') + 1]), c[3]) for c in commands]
    root = tmp_path / 'yolact'
    assert sorted(tested) == sorted([
        ('track_labels_k6.json', str(root / 'cico_seed0' / 'iter_600.pth')),
        ('track_labels_k6.json', str(root / 'fifo_seed0' / 'iter_600.pth')),
        ('valid120.json', str(root / 'stage1' / 'iter_600.pth')),
        ('valid120.json', str(root / 'cico_seed0' / 'iter_600.pth')),
        ('valid120.json', str(root / 'fifo_seed0' / 'iter_600.pth')),
        ('valid120_track_labels_k6.json',
         str(root / 'cico_seed0' / 'iter_600.pth')),
        ('valid120_track_labels_k6.json',
         str(root / 'fifo_seed0' / 'iter_600.pth')),
    ])
    for cmd in commands:
        out = osp.basename(cmd[cmd.index('--out') + 1])
        big = 'test_dataloader.dataset.data_root=data/sv_valid120/'
        # the larger split's data root comes after the protocol's own
        assert (big in cmd) == out.startswith('valid120')
        if big in cmd:
            assert cmd.index(big) > cmd.index(
                'test_dataloader.dataset.data_root=data/sv/')
        assert ('test_evaluator.labels_per_track=6' in cmd) == ('track_labels'
                                                                in out)
    printed = capsys.readouterr().out
    big_votes = printed.split('on a valid split of 120 videos')[1]
    assert '| stage 1: frame-level (T = 1), frames as images | 1 | 30.0 |' \
        in big_votes
    assert '| CiCo - FiFo | | -1.5 (pooled std 0.0)' in big_votes
    big_labels = printed.split('on a valid split of 120 videos')[2]
    assert 'with track-level labels (6 per track' in big_labels
    assert '| stage 2: FiFo, T = 1 | 1 | 43.0 |' in big_labels
    assert 'stage 1' not in big_labels
    protocol.main(argv)  # cached: nothing is tested again
    assert len(commands) == 7
    assert 'error: --eval-videos needs N >= 1' in usage_error(
        capsys, protocol.parse_args, ['--fcn', 'yolact', '--eval-videos', '0'])


def test_eval_videos_tests_the_last_fifth_for_convergence(
        tmp_path, monkeypatch, capsys):
    """--eval-videos 120 also tests the checkpoints a run keeps in its last
    fifth (480-600: iter_500; iter_400 is older) on the larger split, once,
    and prints each run's AP there with the 1-point flatness verdict; a
    run that kept only its last checkpoint is left out."""
    aps = {
        ('valid120', 'stage1'): 25.0,
        ('valid120', 'cico_seed0'): 27.0,
        ('valid120_iter500', 'cico_seed0'): 27.5,
        ('valid120', 'fifo_seed0'): 26.0,
    }
    commands = fake_commands(monkeypatch, aps)
    kept = dict(cico_seed0=(400, 500, 600), fifo_seed0=(600, ), stage1=())

    def fake_train(config, work_dir, options, env, log):
        finish_run(config, work_dir, options, env, log)
        for it in kept[osp.basename(work_dir)]:
            Path(work_dir, f'iter_{it}.pth').write_bytes(b'weights')

    monkeypatch.setattr(protocol, 'train', fake_train)
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    argv = [
        '--fcn', 'yolact', '--seeds', '1', '--device', 'cpu', '--work-dir',
        str(tmp_path), '--eval-videos', '120'
    ]
    protocol.main(argv)
    root = tmp_path / 'yolact'
    tested = sorted((c[3], c[c.index('--out') + 1]) for c in commands)
    assert tested == sorted([
        (str(root / 'cico_seed0' / 'iter_500.pth'),
         str(root / 'cico_seed0' / 'valid120_iter500.json')),
        *[(str(root / run / 'iter_600.pth'), str(root / run / 'valid120.json'))
          for run in ('stage1', 'cico_seed0', 'fifo_seed0')]
    ])
    split = 'data/synthvis_protocol_valid120/'
    assert all(c[-1] == f'test_dataloader.dataset.data_root={split}'
               for c in commands)
    printed = capsys.readouterr().out.split('AP over the last fifth')[1]
    assert 'cico_seed0: 27.5 / 27.0 at 500/600 (flat)' in printed
    assert 'fifo_seed0' not in printed and 'stage1' not in printed
    protocol.main(argv)  # cached
    assert len(commands) == 4
    aps[('valid120_iter500', 'cico_seed0')] = 28.5
    (root / 'cico_seed0' / 'valid120_iter500.json').unlink()
    protocol.main(argv)
    assert 'cico_seed0: 28.5 / 27.0 at 500/600 (not flat)' in \
        capsys.readouterr().out


def test_test_init_tests_both_variants_before_stage_2(tmp_path, monkeypatch,
                                                      capsys):
    """--test-init: each variant is made once from the stage-1 checkpoint
    by the converter (no training) and tested on the valid split and, with
    --eval-videos, on the larger one, in tables of their own."""
    aps = {
        ('valid', 'cico_init'): 36.8,
        ('valid', 'fifo_init'): 33.2,
        ('valid120', 'cico_init'): 28.0,
        ('valid120', 'fifo_init'): 26.8,
        ('valid120', 'stage1'): 26.8,
        ('valid120', 'cico_seed0'): 24.0,
        ('valid120', 'fifo_seed0'): 26.0,
    }
    monkeypatch.setattr(protocol, 'train', finish_run)
    commands = fake_commands(monkeypatch, aps)
    monkeypatch.setattr(protocol, 'plot', lambda curves, png: None)
    argv = [
        '--fcn', 'yolact', '--seeds', '1', '--device', 'cpu', '--work-dir',
        str(tmp_path), '--data', 'data/sv', '--test-init', '--eval-videos',
        '120'
    ]
    protocol.main(argv)
    root = tmp_path / 'yolact'
    made = [c[2:5] for c in commands if 'inflate_checkpoint' in c[1]]
    assert made == [[
        protocol.config_path('yolact', v), 'stage1-x.pth',
        str(root / f'{v}_init' / 'init.pth')
    ] for v in ('cico', 'fifo')]
    tested = sorted((osp.basename(c[c.index('--out') + 1]), c[3])
                    for c in commands if c[1] == 'tools/test.py')
    inits = [str(root / f'{v}_init' / 'init.pth') for v in ('cico', 'fifo')]
    assert tested == sorted(
        [('valid.json', ckpt) for ckpt in inits] + [('valid120.json', ckpt)
                                                    for ckpt in inits] +
        [('valid120.json', str(root / run / 'iter_600.pth'))
         for run in ('stage1', 'cico_seed0', 'fifo_seed0')])
    printed = capsys.readouterr().out
    at_init = printed.split('stage-2 models at iteration 0')[1]
    assert '| stage 2: CiCo, T = 3 | 1 | 36.8 |' in at_init
    assert '| CiCo - FiFo | | +3.6 (pooled std 0.0)' in at_init
    trained_big = at_init.split('on a valid split of 120 videos')[1]
    assert '| CiCo - FiFo | | -2.0 (pooled std 0.0)' in trained_big
    init_big = printed.split('stage-2 models at iteration 0')[2]
    assert 'on a valid split of 120 videos' in init_big
    assert '| CiCo - FiFo | | +1.2 (pooled std 0.0)' in init_big
    protocol.main(argv)  # made and tested once
    assert len(commands) == 9


def test_ensure_data_makes_a_valid_only_split(tmp_path, monkeypatch):
    """With val_videos the generator writes no train video and N valid
    ones, with the protocol's other settings and seed; an existing split is
    not generated again."""
    commands = []
    monkeypatch.setattr(protocol, 'run',
                        lambda cmd, env, log: commands.append(cmd))
    protocol.ensure_data(str(tmp_path / 'big'), {}, 'log', val_videos=120)
    cmd = commands[0]
    flag = {
        k: cmd[cmd.index(k) + 1]
        for k in ('--train-videos', '--val-videos', '--seed')
    }
    assert flag == {
        '--train-videos': '0',
        '--val-videos': '120',
        '--seed': str(protocol.DATA['seed'])
    }
    assert cmd[cmd.index('--radius') + 1:cmd.index('--radius') +
               3] == [str(r) for r in protocol.DATA['radius']]
    (tmp_path / 'big' / 'annotations').mkdir(parents=True)
    (tmp_path / 'big' / 'annotations' / 'valid.json').write_text('{}')
    protocol.ensure_data(str(tmp_path / 'big'), {}, 'log', val_videos=120)
    assert len(commands) == 1
