"""init_model + VideoInferencer on mp4 / frame folder; the demo tool (video,
YouTube-VIS json, id maps); to_vis_json equals the metric's export; the
streaming test equals a whole-video reference run; the show-dir hook."""
import copy
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.registry import DATASETS, METRICS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import save_checkpoint
from mmengine.structures import InstanceData

from projects.cico.apis import VideoInferencer, init_model, open_source
from projects.cico.apis.inference import instance_id_map
from projects.cico.datasets.synthvis_meta import SYNTHVIS_CLASSES
from projects.cico.utils.fuse_conv_bn import count_batch_norms
from projects.cico.utils.masks import rle_to_masks

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def setup(tmp_path_factory, synthvis_config_factory):
    """A tiny SynthVIS, a config pointing at it (score threshold 0 so the
    random model emits instances) and a random-weight checkpoint."""
    tmp = tmp_path_factory.mktemp('apis')
    _, cfg_path, root = synthvis_config_factory(
        tmp, val_videos=2, frames=(7, 8), **{'nms.max_per_clip': 5})
    torch.manual_seed(0)
    model = init_model(cfg_path)
    ckpt = str(tmp / 'model.pth')
    save_checkpoint(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=('a', ) * 6))), ckpt)
    video_dir = osp.join(root, 'valid', 'JPEGImages', 'synth_valid_0001')
    mp4 = str(tmp / 'in.mp4')
    files = sorted(f for f in __import__('os').listdir(video_dir))
    first = cv2.imread(osp.join(video_dir, files[0]))
    writer = cv2.VideoWriter(mp4, cv2.VideoWriter_fourcc(*'mp4v'), 5.0,
                             (first.shape[1], first.shape[0]))
    for f in files:
        writer.write(cv2.imread(osp.join(video_dir, f)))
    writer.release()
    return dict(
        cfg=cfg_path,
        ckpt=ckpt,
        root=root,
        video_dir=video_dir,
        mp4=mp4,
        n_frames=len(files),
        tmp=tmp)


def test_open_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        open_source(str(tmp_path / 'missing.mp4'))
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video')
    with pytest.raises(IOError, match='cannot read video'):
        open_source(str(bad))
    with pytest.raises(IOError, match='no image'):
        open_source(str(tmp_path))


def test_init_model_without_checkpoint(setup):
    """No checkpoint: class names from the config's dataset, cfg_options
    merged, eval mode on the device."""
    model = init_model(
        setup['cfg'],
        device='cpu',
        cfg_options={'model.test_cfg.nms.max_per_clip': 3})
    assert model.dataset_meta['classes'] == SYNTHVIS_CLASSES
    assert model.cfg.model.test_cfg.nms.max_per_clip == 3
    assert model.test_cfg['nms']['max_per_clip'] == 3
    assert not model.training
    assert {p.device.type for p in model.parameters()} == {'cpu'}


def test_inferencer_streams_every_frame_once(setup):
    model = init_model(setup['cfg'], setup['ckpt'])
    assert model.dataset_meta['classes'][0] == 'a'
    results = list(VideoInferencer(model).stream(setup['video_dir']))
    assert [r.frame_index for r in results] == list(range(setup['n_frames']))
    r = results[0]
    assert r.instances.masks.dtype == torch.bool
    assert r.instances.masks.shape[1:] == r.image.shape[:2]
    assert len(r.instances) > 0


@pytest.mark.parametrize('switch',
                         ['fuse_conv_bn', 'channels_last', 'inference_mode'])
def test_speed_switches_give_the_same_tracks(setup, switch):
    """``fuse_conv_bn=True`` folds every BN (here with non-trivial running
    statistics), ``channels_last=True`` converts the conv weights,
    ``inference_mode=True`` runs the clips (and the tracker's state carried
    between them) under ``torch.inference_mode()``; all stream the same
    tracks: ids, labels, masks; scores within float rounding."""
    model = init_model(setup['cfg'], setup['ckpt'])
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
            m.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=gen))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=gen))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=gen))
    fused = copy.deepcopy(model)
    assert count_batch_norms(model) > 20  # ResNet-18's 20 and the heads'
    plain = list(VideoInferencer(model).stream(setup['video_dir']))
    modes = []  # whether each clip ran under torch.inference_mode()
    test_step = fused.test_step

    def recording_test_step(data):
        modes.append(torch.is_inference_mode_enabled())
        return test_step(data)

    fused.test_step = recording_test_step
    folded = list(
        VideoInferencer(fused, **{
            switch: True
        }).stream(setup['video_dir']))
    if switch == 'fuse_conv_bn':
        assert count_batch_norms(fused) == 0
    elif switch == 'channels_last':
        assert fused.backbone.conv1.weight.is_contiguous(
            memory_format=torch.channels_last)
    else:
        assert modes == [True] * len(modes) and len(modes) > 1
    assert len(plain) == len(folded) == setup['n_frames']
    assert sum(len(r.instances) for r in plain) > 0
    for a, b in zip(plain, folded):
        assert a.instances.instances_id.tolist(
        ) == b.instances.instances_id.tolist()
        assert a.instances.labels.tolist() == b.instances.labels.tolist()
        assert torch.allclose(
            a.instances.scores, b.instances.scores, atol=1e-4)
        inter = (a.instances.masks & b.instances.masks).flatten(1).sum(1)
        union = (a.instances.masks | b.instances.masks).flatten(1).sum(1)
        assert (inter >= 0.99 * union).all()


@pytest.mark.parametrize('schedule', ['project', 'authors'])
def test_streaming_test_equals_reference_runs(setup, schedule):
    """The runner's path (dataset clips + VideoClipSampler order + feature
    reuse) and the VideoInferencer on the frame folder give the same
    per-frame results; recomputing every clip from scratch (no reuse) too.
    In both clip schedules (the authors' read from the config's test
    dataset by the inferencer: 7 or 8 frames, T = 3, T_o = 1, end with
    [6, 6, 6] or [6, 7, 6]). With the authors' schedule the frames are
    loaded as floats, as the authors' test input is (the inferencer must
    then resize floats too)."""
    cfg = Config.fromfile(setup['cfg'])
    cfg.test_dataloader.dataset.clip_schedule = schedule
    loader = cfg.test_dataloader.dataset.pipeline[0]['transforms'][0]
    assert loader['type'] == 'LoadImageFromFile'
    loader['to_float32'] = schedule == 'authors'
    model = init_model(cfg, setup['ckpt'])
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    v = [
        i for i in range(len(ds))
        if ds.get_data_info(i)['video_name'] == 'synth_valid_0001'
    ][0]

    def run_dataset(reuse):
        out = {}
        model.stream.reuse = reuse  # False: recompute the overlap frames
        for c in range(ds.num_clips(v)):
            data = pseudo_collate([ds[(v, c)]])
            with torch.no_grad():
                for f in model.test_step(data)[0]:
                    if f.metainfo['is_output_frame']:
                        inst = f.pred_track_instances
                        # RLEs at the original size, decoded as the inferencer
                        inst.masks = rle_to_masks(inst.masks,
                                                  *f.metainfo['ori_shape'][:2])
                        out[f.metainfo['frame_id']] = inst
        return out

    streamed = run_dataset(reuse=True)
    recomputed = run_dataset(reuse=False)
    model.stream.reuse = True
    inferencer = VideoInferencer(model)
    assert inferencer.clip_schedule == schedule
    inferred = {
        r.frame_index: r.instances
        for r in inferencer.stream(setup['video_dir'])
    }
    # (schedule, frames) -> clips, frames of the last clip
    ends = {
        ('project', 7): (3, [4, 5, 6]),
        ('project', 8): (4, [6, 7, 7]),
        ('authors', 7): (4, [6, 6, 6]),
        ('authors', 8): (4, [6, 7, 6])
    }
    n, end = ends[schedule, setup['n_frames']]
    assert ds.num_clips(v) == n
    assert [
        f.frame_id for f in ds[(v, n - 1)]['data_samples'].video_data_samples
    ] == end
    assert sorted(streamed) == sorted(inferred) == list(
        range(setup['n_frames']))
    for f in streamed:
        for other in (recomputed[f], inferred[f]):
            a = streamed[f]
            assert a.instances_id.tolist() == other.instances_id.tolist()
            assert torch.allclose(a.scores, other.scores, atol=1e-5)
            assert torch.allclose(a.bboxes, other.bboxes, atol=1e-3)
            if len(a):
                assert (a.masks != other.masks).float().mean() < 1e-3
    assert sum(len(streamed[f]) for f in streamed) > 0


def test_demo_writes_a_readable_video(setup):
    out = str(setup['tmp'] / 'demo.mp4')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'demo', 'video_demo.py'), setup['mp4'],
        setup['cfg'], setup['ckpt'], '--out', out, '--score-thr', '0'
    ],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cap = cv2.VideoCapture(out)
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == setup['n_frames']
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(5.0)


def test_demo_unreadable_input(setup):
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'demo', 'video_demo.py'),
        str(setup['tmp'] / 'nope.mp4'), setup['cfg'], setup['ckpt'], '--out',
        str(setup['tmp'] / 'x.mp4')
    ],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)
    assert proc.returncode != 0
    assert 'nope.mp4' in proc.stderr


def test_show_dir_writes_frames_per_video(setup):
    out = setup['tmp'] / 'show'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools',
                 'test.py'), setup['cfg'], setup['ckpt'], '--show-dir',
        str(out), '--work-dir',
        str(setup['tmp'] / 'work'), '--cfg-options',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    videos = sorted(p.name for p in out.iterdir())
    assert videos == ['synth_valid_0001', 'synth_valid_0002']
    frames = sorted(p.name for p in (out / 'synth_valid_0001').iterdir())
    assert len(frames) == setup['n_frames']
    img = cv2.imread(str(out / 'synth_valid_0001' / frames[0]))
    src = cv2.imread(osp.join(setup['video_dir'], frames[0]))
    assert img.shape == src.shape and np.abs(
        img.astype(int) - src.astype(int)).sum() > 0  # something drawn


def test_instance_id_map_higher_score_wins():
    masks = torch.zeros((3, 4, 5), dtype=torch.bool)
    masks[0, :2, :3] = True  # track 7, score 0.2
    masks[1, 1:3, 1:4] = True  # track 2, score 0.9, overlaps track 7
    masks[2, 3, 4] = True  # track 0
    inst = InstanceData(
        instances_id=torch.tensor([7, 2, 0]),
        scores=torch.tensor([0.2, 0.9, 0.5]),
        masks=masks)
    m = instance_id_map(inst)
    assert m.dtype == np.uint16 and m.shape == (4, 5)
    assert m[0, 0] == 8 and m[1, 1] == 3 and m[1, 0] == 8 and m[3, 4] == 1
    assert m[3, 0] == 0
    assert (m == 3).sum() == 6  # track 2 whole: it wins the overlap


def metric_export(model, results, **kwargs):
    """CiCoVISMetric's aggregation of the inferencer's frames (binary masks
    encoded by the metric), as it would export them."""
    m = METRICS.build(dict(type='CiCoVISMetric', **kwargs))
    m.dataset_meta = model.dataset_meta
    n = len(results)
    frames = []
    for r in results:
        s = DetDataSample(
            metainfo=dict(
                video_id=1,
                frame_id=r.frame_index,
                img_id=r.frame_index,
                ori_shape=r.image.shape[:2],
                ori_video_length=n,
                is_output_frame=True))
        s.pred_track_instances = r.instances
        frames.append(s)
    m.process({}, [dict(video_data_samples=frames)])
    (preds, _), = m.results
    return preds


def test_to_vis_json_equals_the_metric(setup):
    model = init_model(setup['cfg'], setup['ckpt'])
    inferencer = VideoInferencer(model)
    results = list(inferencer.stream(setup['video_dir']))
    n = setup['n_frames']
    assert [r.frame_index for r in results] == list(range(n))
    tracks = inferencer.to_vis_json()
    assert tracks and all(len(t['segmentations']) == n for t in tracks)
    assert json.loads(json.dumps(tracks)) == tracks  # plain json
    assert tracks == metric_export(model, results)
    # by hand: the first track's mean score (float64) and majority label
    tid = int(results[0].instances.instances_id[0])
    scores, labels = [], []
    for r in results:
        k = (r.instances.instances_id == tid).nonzero().flatten()
        if len(k):
            scores.append(float(r.instances.scores[k[0]]))
            labels.append(int(r.instances.labels[k[0]]))
        seg = tracks[0]['segmentations'][r.frame_index]
        assert (seg is None) == (len(k) == 0)
        if len(k):
            assert np.array_equal(
                mask_utils.decode(seg).astype(bool),
                r.instances.masks[k[0]].numpy())
    assert tracks[0]['score'] == pytest.approx(np.mean(scores), abs=1e-12)
    vote = max(set(labels), key=lambda c: (labels.count(c), -c))
    assert tracks[0]['category_id'] == vote + 1
    # each instance's class-score vector: its label is the argmax, its
    # score the max; labels_per_track=2 gives 2 results per track, as the
    # metric does
    for r in results:
        cls = r.instances.cls_scores
        assert cls.shape == (len(r.instances), 6)
        assert torch.equal(cls.argmax(1), r.instances.labels)
        assert torch.allclose(cls.max(1)[0], r.instances.scores)
    two = inferencer.to_vis_json(labels_per_track=2)
    assert len(two) == 2 * len(tracks)
    assert two == metric_export(model, results, labels_per_track=2)
    assert two[0]['segmentations'] == tracks[0]['segmentations']
    # the dataset's category ids when known; a new stream starts afresh
    model.dataset_meta = dict(model.dataset_meta, cat_ids=list(range(11, 17)))
    assert [t['category_id'] for t in inferencer.to_vis_json()
            ] == [t['category_id'] + 10 for t in tracks]
    assert len(list(inferencer.stream_frames(r.image for r in results[:3])))
    assert {len(t['segmentations']) for t in inferencer.to_vis_json()} == {3}


def test_demo_json_and_mask_maps(setup):
    out = setup['tmp'] / 'demo_out'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'demo', 'video_demo.py'), setup['video_dir'],
        setup['cfg'], setup['ckpt'], '--out-json',
        str(out / 'results.json'), '--out-masks',
        str(out / 'masks'), '--score-thr', '0', '--device', 'cpu',
        '--video-id', '4', '--trust-checkpoint'
    ],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    n = setup['n_frames']
    tracks = json.loads((out / 'results.json').read_text())
    assert tracks and all(len(t['segmentations']) == n for t in tracks)
    assert {t['video_id'] for t in tracks} == {4}
    assert set(
        tracks[0]) == {'video_id', 'category_id', 'score', 'segmentations'}
    pngs = sorted((out / 'masks' / 'synth_valid_0001').iterdir())
    assert [p.name for p in pngs] == [f'{i:05d}.png' for i in range(n)]
    model = init_model(setup['cfg'], setup['ckpt'])
    inferencer = VideoInferencer(model)
    results = list(inferencer.stream(setup['video_dir']))
    assert tracks == inferencer.to_vis_json(video_id=4)
    for r, png in zip(results, pngs):
        m = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        assert m.dtype == np.uint16 and m.shape == r.image.shape[:2]
        inst = r.instances
        ids = set(inst.instances_id.tolist())
        assert set(np.unique(m).tolist()) <= {0} | {i + 1 for i in ids}
        assert (m > 0).sum() == inst.masks.any(0).sum()
        for k in inst.scores.argsort(descending=True).tolist():
            mine = inst.masks[k].numpy()  # its pixels no better score took
            higher = inst.masks[inst.scores > inst.scores[k]].any(0).numpy()
            own = mine & ~higher
            assert (m[own] == int(inst.instances_id[k]) + 1).all()


def test_array_pipeline_gives_the_file_pipelines_input(tmp_path):
    """The demo reads frames into memory; under the authors' test input
    (float frames, resize, padding with the channel mean 123.675 / 116.28 /
    103.53) its pipeline must give exactly the tensor ``tools/test.py``'s
    file pipeline gives: a uint8 resize rounds, and a uint8 pad writes
    123 instead of 123.675."""
    from mmcv.transforms import Compose
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'cico_yolact_r50_ytvis19.py'))
    frame_steps = cfg.test_dataloader.dataset.pipeline[0]['transforms']
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (72, 100, 3), dtype=np.uint8)
    path = str(tmp_path / 'f.png')
    cv2.imwrite(path, frame)
    from_file = Compose(frame_steps)(dict(img_path=path))['img']
    array_steps = VideoInferencer._array_pipeline(
        [dict(type='TransformBroadcaster', transforms=frame_steps)])
    in_memory = Compose(array_steps[0]['transforms'])(dict(img=frame))['img']
    assert from_file.dtype == in_memory.dtype == np.float32
    assert from_file.shape == in_memory.shape == (384, 640, 3)
    assert np.array_equal(from_file, in_memory)
    # the padding is the mean, not its rounded value (100 x 72 -> 533 x 384)
    assert in_memory[100,
                     600].tolist() == pytest.approx([123.675, 116.28, 103.53])
