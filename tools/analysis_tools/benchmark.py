"""Speed and memory of a CiCo config, next to another model in the same run.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT]
        [--num-clips 12] [--warmup 2] [--input-size 360 640]
        [--with-loading] [--compare OTHER_CONFIG] [--channels-last]
        [--train] [--onnx CLIP_NET.onnx] [--cfg-options ...]

Each model runs in its own subprocess, so its peak memory is its own.
--train times one training step (forward, backward, SGD) on one T-frame clip
(CiCo) or on the same T frames as a batch of images (a frame-level mmdet
model) with random ground truth, instead of inference.

Without loading: a synthetic video (random frames of --input-size) goes through
the clip loop exactly as in testing (T, T_o and padding of the config's test
dataset, features of overlap frames reused, tracker on), ``model.test_step``
per clip (pre- and post-processing included). Time per OUTPUT frame = total
time / emitted frames, after the warm-up clips. The same timed steps count
the convolutions' multiply-accumulates per output frame (conv GMACs), so that
a time ratio can be read next to the FLOP ratio of the two models.

With loading (--with-loading): the config's test dataloader on its real data,
data loading included.

--compare OTHER_CONFIG times another model on the same frames: a CiCo config,
or a frame-level mmdet model (``mmdet::yolact/yolact_r50_1xb8-55e_coco.py``,
``mmdet::masktrack_rcnn/...``) run frame by frame; the ratio is printed.
Random weights change how much post-processing runs: compare within one run.
Peak memory: peak RSS of the process on CPU, max allocated on CUDA.

--onnx CLIP_NET.onnx (tools/deployment/export_onnx.py, exported for the
padded input size, e.g. --shape 384 640 for 360x640 frames) times CONFIG
twice in the same run, PyTorch and onnxruntime (same checkpoint, same
post-processing), instead of --compare.
"""
import argparse
import os.path as osp
import resource
import sys
import time
from functools import partial
from typing import Dict

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402
from torch.nn.modules.conv import _ConvNd  # noqa: E402

import projects.cico  # noqa: E402,F401
from projects.cico.utils import clip_layout  # noqa: E402
from projects.cico.utils import trust_all_checkpoints  # noqa: E402
from projects.cico.utils.fuse_conv_bn import fuse_conv_bn  # noqa: E402
from projects.cico.utils.memory_format import to_channels_last  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description='CiCo inference benchmark')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='allow unpickling the checkpoint (a training checkpoint you '
        'wrote; see tools/model_converters/publish_model.py)')
    p.add_argument(
        '--num-clips',
        type=int,
        default=12,
        help='timed clips (CiCo) / frame equivalents')
    p.add_argument('--warmup', type=int, default=2, help='untimed clips')
    p.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        default=[360, 640],
        metavar=('H', 'W'))
    p.add_argument(
        '--with-loading',
        action='store_true',
        help="also time the config's test dataloader (real data)")
    p.add_argument(
        '--compare',
        default=None,
        help='another config to time in the same run')
    p.add_argument(
        '--channels-last',
        action='store_true',
        help='run both models in channels_last memory format')
    p.add_argument(
        '--fuse-conv-bn',
        action='store_true',
        help='fold the batch norms into the convs of both models '
        '(tools/test.py --fuse-conv-bn)')
    p.add_argument(
        '--inference-mode',
        action='store_true',
        help='run both models under torch.inference_mode() instead of '
        'torch.no_grad()')
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--clip-len', type=int, default=3, help=argparse.SUPPRESS)
    p.add_argument(
        '--train',
        action='store_true',
        help='time training steps instead of inference')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides for CONFIG')
    p.add_argument(
        '--compare-cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides for the --compare config, e.g. the same '
        'number of candidates: model.test_cfg.nms_pre=50')
    p.add_argument(
        '--onnx',
        default=None,
        help='time the clip network of this ONNX export in onnxruntime '
        'next to PyTorch')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    return p.parse_args()


def load_cfg(path, options=None):
    if path.startswith('mmdet::'):
        import mmdet
        path = osp.join(
            osp.dirname(mmdet.__file__), '.mim', 'configs',
            path[len('mmdet::'):])
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return cfg


def strip_pretrained(model_cfg):
    """No downloads: drop pretrained init of backbones."""
    model_cfg.pop('init_cfg', None)
    for key in ('backbone', 'detector'):
        sub = model_cfg.get(key)
        if isinstance(sub, dict):
            sub.pop('init_cfg', None)
            if isinstance(sub.get('backbone'), dict):
                sub['backbone'].pop('init_cfg', None)
    return model_cfg


def build_model(cfg, checkpoint, device, channels_last, fuse=False):
    model = MODELS.build(strip_pretrained(cfg.model.copy()))
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    else:  # the model's own init (class priors), random otherwise
        model.init_weights()
    model = model.to(device).eval()
    if fuse:
        fuse_conv_bn(model)
    if channels_last:
        to_channels_last(model)
    return model


def peak_memory_mib(device):
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed_test_step(model, data, device) -> float:
    """Seconds of one ``model.test_step(data)``, device synchronised."""
    sync(device)
    t0 = time.perf_counter()
    model.test_step(data)
    sync(device)
    return time.perf_counter() - t0


class ConvMacs:
    """Multiply-accumulates of every ``Conv2d``/``Conv3d`` call of a model
    while ``enabled``: output elements x input channels per group x kernel
    volume (the convolutions are what the FLOPs of both models are; the
    matmuls that assemble masks are small next to them). ``by_part``: the
    same per top-level submodule (backbone, neck, bbox_head, mask_head)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.by_part: Dict[str, int] = {}
        self.enabled = False
        for name, m in model.named_modules():
            if isinstance(m, _ConvNd):
                m.register_forward_hook(
                    partial(self._count,
                            name.split('.')[0]))

    @property
    def macs(self) -> int:
        return sum(self.by_part.values())

    def _count(self, part, module, inputs, output) -> None:
        if self.enabled:
            self.by_part[part] = self.by_part.get(part, 0) + output.numel() * (
                module.in_channels // module.groups) * int(
                    np.prod(module.kernel_size))


def frame_meta(h, w, frame_id, video_id=0, length=1):
    return dict(
        img_shape=(h, w),
        ori_shape=(h, w),
        pad_shape=(h, w),
        scale_factor=(1.0, 1.0),
        img_id=frame_id,
        frame_id=frame_id,
        video_id=video_id,
        video_length=length,
        ori_video_length=length)


def cico_clip_loop(cfg):
    """(T, T_o) of the config's test dataset, with the dataset's default
    T_o (``default_clip_overlap``) when it sets none."""
    ds = cfg.test_dataloader.dataset
    t_len = ds.get('clip_len', cfg.model.clip_len)
    return t_len, clip_layout.resolve_clip_overlap(t_len,
                                                   ds.get('clip_overlap'))


def cico_clip_schedule(cfg):
    """How the config's test clips end a video (``'project'`` when its test
    dataset sets no ``clip_schedule``)."""
    return cfg.test_dataloader.dataset.get('clip_schedule', 'project')


def grad_off(inference_mode=False):
    """``torch.inference_mode()`` or ``torch.no_grad()``."""
    return torch.inference_mode() if inference_mode else torch.no_grad()


def time_cico(model,
              cfg,
              frames,
              warmup,
              device,
              macs=None,
              inference_mode=False):
    """Seconds per emitted frame over the timed clips of a synthetic video;
    ``macs`` (:class:`ConvMacs`) counts the timed clips."""
    t_len, overlap = cico_clip_loop(cfg)
    schedule = cico_clip_schedule(cfg)
    length = frames.shape[0]
    h, w = frames.shape[-2:]
    total = clip_layout.num_clips(length, t_len, overlap, schedule)
    elapsed, emitted = 0.0, 0
    with grad_off(inference_mode):
        for c in range(total):
            clip = clip_layout.video_clip(length, c, t_len, overlap, schedule)
            track = TrackDataSample()
            samples = []
            for k, f in enumerate(clip.frame_inds):
                s = DetDataSample()
                s.set_metainfo(frame_meta(h, w, f, 0, length))
                # as the dataset: clip flags, video_length T
                s.set_metainfo(
                    clip_layout.clip_frame_metainfo(clip, k, length))
                samples.append(s)
            track.video_data_samples = samples
            data = dict(inputs=[frames[clip.frame_inds]], data_samples=[track])
            if macs is not None:
                macs.enabled = c >= warmup
            seconds = timed_test_step(model, data, device)
            if c >= warmup:
                elapsed += seconds
                emitted += sum(clip.is_output)
    return elapsed / max(emitted, 1), emitted


def time_frame_model(model,
                     frames,
                     warmup,
                     device,
                     video,
                     macs=None,
                     inference_mode=False):
    """Seconds per frame of a frame-level mmdet model (or MaskTrack);
    ``macs`` (:class:`ConvMacs`) counts the timed frames."""
    h, w = frames.shape[-2:]
    elapsed, n = 0.0, 0
    with grad_off(inference_mode):
        for i in range(frames.shape[0]):
            s = DetDataSample()
            s.set_metainfo(frame_meta(h, w, i, 0, frames.shape[0]))
            if video:
                track = TrackDataSample()
                track.video_data_samples = [s]
                track.set_metainfo(
                    dict(key_frames_inds=[0], ref_frames_inds=[]))
                data = dict(inputs=[frames[i:i + 1]], data_samples=[track])
            else:
                data = dict(inputs=[frames[i]], data_samples=[s])
            if macs is not None:
                macs.enabled = i >= warmup
            seconds = timed_test_step(model, data, device)
            if i >= warmup:
                elapsed += seconds
                n += 1
    return elapsed / max(n, 1), n


def time_with_loading(model, cfg, max_steps, device):
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg)
    emitted, t0 = 0, time.perf_counter()
    with torch.no_grad():
        for step, data in enumerate(loader):
            if step >= max_steps:
                break
            out = model.test_step(data)
            emitted += sum(
                bool(f.metainfo.get('is_output_frame', True)) for f in out[0])
    sync(device)
    return (time.perf_counter() - t0) / max(emitted, 1), emitted


def is_cico(cfg):
    return cfg.model.get('type') == 'CiCo'


def random_gt(t, h, w, num_objects=3, seed=0):
    """T frames of random boxes with box-shaped masks, consistent ids."""
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    wh = torch.randint(h // 8, h // 3, (num_objects, 2), generator=g)
    xy = torch.randint(0, h // 2, (num_objects, 2), generator=g)
    samples = []
    for k in range(t):
        boxes = torch.cat([xy + 4 * k, xy + 4 * k + wh], 1).float()
        masks = np.zeros((num_objects, h, w), np.uint8)
        for j, b in enumerate(boxes.long().tolist()):
            masks[j, b[1]:b[3], b[0]:b[2]] = 1
        s = DetDataSample()
        s.set_metainfo(frame_meta(h, w, k, 0, t))
        s.gt_instances = InstanceData(
            bboxes=boxes,
            labels=torch.arange(num_objects) % 2,
            masks=BitmapMasks(masks, h, w),
            instances_ids=torch.arange(num_objects))
        samples.append(s)
    return samples


def time_train(model, cfg, t, h, w, steps, warmup):
    """Seconds per training step (SGD, lr 1e-4) on one clip / T frames."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    frames = torch.randint(0, 256, (t, 3, h, w), dtype=torch.uint8)
    samples = random_gt(t, h, w)
    if is_cico(cfg):
        track = TrackDataSample()
        track.video_data_samples = samples
        data = dict(inputs=[frames], data_samples=[track])
    else:
        data = dict(inputs=list(frames), data_samples=samples)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        batch = model.data_preprocessor(data, training=True)
        losses = model(**batch, mode='loss')
        loss = sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
                   for v in losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def worker(args):
    """Measure one model; print one JSON line."""
    import json
    torch.manual_seed(0)
    cfg = load_cfg(args.config, args.cfg_options)
    h, w = args.input_size
    model = build_model(cfg, args.checkpoint, args.device, args.channels_last,
                        args.fuse_conv_bn and not args.train)
    params = sum(p.numel() for p in model.parameters())
    out = dict(params=params)
    if args.onnx:  # same test_step, the clip network in onnxruntime
        from projects.cico.apis.onnx_backend import OrtClipModel
        model = OrtClipModel(model, args.onnx)
    if args.train:
        t_len = cfg.model.clip_len if is_cico(cfg) else args.clip_len
        out['sec_per_step'] = time_train(model, cfg, t_len, h, w,
                                         args.num_clips, args.warmup)
        out['frames'] = t_len
    else:
        t_len, overlap = cico_clip_loop(cfg) if is_cico(cfg) else (1, 0)
        step = t_len - overlap
        length = t_len + step * (args.warmup + args.num_clips - 1)
        frames = torch.randint(0, 256, (length, 3, h, w), dtype=torch.uint8)
        # the onnxruntime path runs no torch convs: nothing to count
        macs = None if args.onnx else ConvMacs(model)
        if is_cico(cfg):
            sec, n = time_cico(model, cfg, frames, args.warmup, args.device,
                               macs, args.inference_mode)
        else:
            video = 'detector' in cfg.model or cfg.model.get(
                'type', '').endswith(('RCNN', 'Video'))
            sec, n = time_frame_model(model, frames, args.warmup, args.device,
                                      video, macs, args.inference_mode)
        out.update(
            sec_per_frame=sec,
            frames=n,
            conv_gmacs={
                part: v / 1e9 / max(n, 1)
                for part, v in (macs.by_part if macs else {}).items()
            })
        if args.with_loading and is_cico(cfg):
            out['sec_per_frame_loading'], _ = time_with_loading(
                model, cfg, args.num_clips, args.device)
    out['peak_mib'] = peak_memory_mib(args.device)
    print('BENCHMARK ' + json.dumps(out), flush=True)


def measure(config, checkpoint, options, args, clip_len=None, onnx=None):
    """Run :func:`worker` for one config (with its ``--cfg-options``) in a
    fresh process; ``onnx``: its clip network in onnxruntime."""
    import json
    import subprocess
    cmd = [
        sys.executable,
        osp.abspath(__file__), config, '--worker', '--num-clips',
        str(args.num_clips), '--warmup',
        str(args.warmup), '--input-size', *map(str, args.input_size),
        '--device', args.device
    ]
    if checkpoint:
        cmd.insert(3, checkpoint)
    if args.train:
        cmd += ['--train', '--clip-len', str(clip_len or 1)]
    if args.channels_last:
        cmd.append('--channels-last')
    if args.fuse_conv_bn:
        cmd.append('--fuse-conv-bn')
    if args.inference_mode:
        cmd.append('--inference-mode')
    if args.with_loading:
        cmd.append('--with-loading')
    if onnx:
        cmd += ['--onnx', onnx]
    if options:
        cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [
        ln for ln in proc.stdout.splitlines() if ln.startswith('BENCHMARK ')
    ]
    if proc.returncode or not lines:
        raise SystemExit(f'benchmark of {config} failed:\n'
                         f'{proc.stderr[-3000:]}')
    return json.loads(lines[-1][len('BENCHMARK '):])


def report(name, res, args):
    mem = f'peak memory {res["peak_mib"]:.0f} MiB'
    params = f'{res["params"] / 1e6:.2f} M parameters'
    if args.train:
        print(f'{name}: {res["sec_per_step"]:.2f} s per training step on '
              f'{res["frames"]} frames of {args.input_size[0]}x'
              f'{args.input_size[1]}; {mem}; {params}')
        return res['sec_per_step']
    sec = res['sec_per_frame']
    # the onnxruntime path runs no torch convs: nothing counted
    parts = res.get('conv_gmacs') or {}
    macs = (f'; {sum(parts.values()):.1f} conv GMACs per output frame (' +
            ', '.join(f'{k} {v:.1f}'
                      for k, v in parts.items()) + ')') if parts else ''

    print(f'{name}: {sec * 1000:.0f} ms per output frame ({1 / sec:.2f} '
          f'frames/s) over {res["frames"]} frames, without data loading; '
          f'{mem}; {params}{macs}')
    if 'sec_per_frame_loading' in res:
        sl = res['sec_per_frame_loading']
        print(f'{name}: {sl * 1000:.0f} ms per output frame with data '
              'loading')
    return sec


def main():
    args = parse_args()
    if args.trust_checkpoint:  # inherited by the per-model subprocesses
        trust_all_checkpoints()
    if args.worker:
        return worker(args)
    cfg = load_cfg(args.config, args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    t_len = cfg.model.clip_len if is_cico(cfg) else 1
    sec = report(name,
                 measure(args.config, args.checkpoint, args.cfg_options, args),
                 args)
    if args.onnx:
        sec_o = report(
            name + ' (onnxruntime)',
            measure(
                args.config,
                args.checkpoint,
                args.cfg_options,
                args,
                onnx=args.onnx), args)
        print(f'ratio onnxruntime / PyTorch: {sec_o / sec:.2f}x time per '
              'output frame')
    if args.compare:
        other = osp.splitext(osp.basename(args.compare))[0]
        sec_o = report(
            other,
            measure(
                args.compare,
                None,
                args.compare_cfg_options,
                args,
                clip_len=t_len), args)
        what = 'training step' if args.train else 'output frame'
        print(f'ratio {name} / {other}: {sec / sec_o:.2f}x time per {what}')


if __name__ == '__main__':
    main()
