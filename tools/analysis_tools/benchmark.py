"""Inference speed of a CiCo config (and of another model, in the same run).

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT]
        [--num-clips 12] [--warmup 2] [--input-size 360 640]
        [--with-loading] [--compare OTHER_CONFIG] [--channels-last]

Without loading: a synthetic video (random frames of --input-size) goes through
the clip loop exactly as in testing (T, T_o and padding of the config's test
dataset, features of overlap frames reused, tracker on), ``model.test_step``
per clip (pre- and post-processing included). Time per OUTPUT frame = total
time / emitted frames, after the warm-up clips.

With loading (--with-loading): the config's test dataloader on its real data,
data loading included.

--compare OTHER_CONFIG times another model on the same frames: a CiCo config,
or a frame-level mmdet model (``mmdet::yolact/yolact_r50_1xb8-55e_coco.py``,
``mmdet::masktrack_rcnn/...``) run frame by frame; the ratio is printed.
Random weights change how much post-processing runs: compare within one run.
Peak memory: peak RSS of the process on CPU, max allocated on CUDA.
"""
import argparse
import os
import os.path as osp
import resource
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import projects.cico  # noqa: E402,F401
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from projects.cico.datasets.transforms import (  # noqa: E402
    clip_frame_indices, num_clips)


def parse_args():
    p = argparse.ArgumentParser(description='CiCo inference benchmark')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument('--num-clips', type=int, default=12,
                   help='timed clips (CiCo) / frame equivalents')
    p.add_argument('--warmup', type=int, default=2, help='untimed clips')
    p.add_argument('--input-size', type=int, nargs=2, default=[360, 640],
                   metavar=('H', 'W'))
    p.add_argument('--with-loading', action='store_true',
                   help="also time the config's test dataloader (real data)")
    p.add_argument('--compare', default=None,
                   help='another config to time in the same run')
    p.add_argument('--channels-last', action='store_true',
                   help='run both models in channels_last memory format')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
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


def build_model(cfg, checkpoint, device, channels_last):
    model = MODELS.build(strip_pretrained(cfg.model.copy()))
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model = model.to(device).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def peak_memory_mib(device):
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


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
    """(T, T_o) from the config's test dataset."""
    ds = cfg.test_dataloader.dataset
    return ds.get('clip_len', cfg.model.clip_len), ds.get('clip_overlap', 0)


def time_cico(model, cfg, frames, warmup, device):
    """Seconds per emitted frame over the timed clips of a synthetic video."""
    t_len, overlap = cico_clip_loop(cfg)
    length = frames.shape[0]
    h, w = frames.shape[-2:]
    total = num_clips(length, t_len, overlap)
    elapsed, emitted = 0.0, 0
    with torch.no_grad():
        for c in range(total):
            info = clip_frame_indices(length, c, t_len, overlap)
            track = TrackDataSample()
            samples = []
            for k, f in enumerate(info['frame_inds']):
                s = DetDataSample()
                s.set_metainfo(frame_meta(h, w, f, 0, length))
                s.set_metainfo(
                    dict(
                        clip_index=c,
                        is_last_clip=info['is_last'],
                        is_new_frame=info['is_new'][k],
                        is_output_frame=info['is_output'][k],
                        is_pad_frame=info['is_pad'][k]))
                samples.append(s)
            track.video_data_samples = samples
            data = dict(
                inputs=[frames[info['frame_inds']]], data_samples=[track])
            sync(device)
            t0 = time.perf_counter()
            model.test_step(data)
            sync(device)
            if c >= warmup:
                elapsed += time.perf_counter() - t0
                emitted += sum(info['is_output'])
    return elapsed / max(emitted, 1), emitted


def time_frame_model(model, frames, warmup, device, video):
    """Seconds per frame of a frame-level mmdet model (or MaskTrack)."""
    h, w = frames.shape[-2:]
    elapsed, n = 0.0, 0
    with torch.no_grad():
        for i in range(frames.shape[0]):
            s = DetDataSample()
            s.set_metainfo(frame_meta(h, w, i, 0, frames.shape[0]))
            if video:
                track = TrackDataSample()
                track.video_data_samples = [s]
                track.set_metainfo(dict(key_frames_inds=[0],
                                        ref_frames_inds=[]))
                data = dict(inputs=[frames[i:i + 1]], data_samples=[track])
            else:
                data = dict(inputs=[frames[i]], data_samples=[s])
            sync(device)
            t0 = time.perf_counter()
            model.test_step(data)
            sync(device)
            if i >= warmup:
                elapsed += time.perf_counter() - t0
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


def run(name, cfg, checkpoint, frames, args):
    model = build_model(cfg, checkpoint, args.device, args.channels_last)
    if is_cico(cfg):
        sec, n = time_cico(model, cfg, frames, args.warmup, args.device)
        what = 'output frames'
    else:
        video = 'detector' in cfg.model or cfg.model.get(
            'type', '').endswith(('RCNN', 'Video'))
        sec, n = time_frame_model(model, frames, args.warmup, args.device,
                                  video)
        what = 'frames'
    print(f'{name}: {sec * 1000:.0f} ms per frame ({1 / sec:.2f} frames/s) '
          f'over {n} {what}, without data loading; peak memory '
          f'{peak_memory_mib(args.device):.0f} MiB')
    if args.with_loading and is_cico(cfg):
        sec_l, n_l = time_with_loading(model, cfg, args.num_clips,
                                       args.device)
        print(f'{name}: {sec_l * 1000:.0f} ms per frame ({1 / sec_l:.2f} '
              f'frames/s) over {n_l} output frames, with data loading')
    return sec


def main():
    args = parse_args()
    torch.manual_seed(0)
    cfg = load_cfg(args.config, args.cfg_options)
    h, w = args.input_size
    t_len, overlap = cico_clip_loop(cfg) if is_cico(cfg) else (1, 0)
    step = t_len - overlap
    length = t_len + step * (args.warmup + args.num_clips - 1)
    frames = torch.randint(0, 256, (length, 3, h, w), dtype=torch.uint8)
    name = osp.splitext(osp.basename(args.config))[0]
    sec = run(name, cfg, args.checkpoint, frames, args)
    if args.compare:
        other_cfg = load_cfg(args.compare)
        other = osp.splitext(osp.basename(args.compare))[0]
        sec_o = run(other, other_cfg, None, frames, args)
        print(f'ratio {name} / {other}: {sec / sec_o:.2f}x time per frame')


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', str(os.cpu_count()))
    main()
