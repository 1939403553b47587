"""Draw clips of a VIS dataset after its pipeline, to check the data flow.

Example::

    python tools/analysis_tools/browse_dataset.py \
        configs/cico_yolact_r18_synthvis.py --split train --num-clips 8 \
        --output-dir work_dirs/browse

Each clip becomes one PNG with its T frames side by side (T x W wide, H high),
exactly as the model sees them (after resize, crop, flip and photometric
distortion): the ground-truth masks (semi-transparent), boxes and a label
``id:<instance_id> <class>``, coloured by instance id so an object keeps its
colour across the frames. Test/val splits load no annotations in their
pipeline; their ground truth (kept in the frame meta) is drawn rescaled to the
resized frames. Prints the written paths.
"""
import argparse
import os
import os.path as osp
import random
import sys
from typing import List, Optional, Sequence, Tuple, Union

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmdet.registry import DATASETS  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from pycocotools import mask as mask_utils  # noqa: E402

import projects.cico  # noqa: E402,F401
from projects.cico.utils.masks import segmentation_to_rle  # noqa: E402
from projects.cico.visualization import draw_frame, id_color  # noqa: E402,F401


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw dataset clips after the pipeline (one PNG per clip)')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--output-dir',
        default=None,
        help='where the PNGs go (default: '
        'work_dirs/browse_dataset/<config name>)')
    parser.add_argument(
        '--num-clips', type=int, default=10, help='number of clips to draw')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default='train',
        help='which dataloader\'s dataset to browse')
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='random seed of the (random) training pipeline')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs merged into the '
        'config (e.g. train_dataloader.dataset.data_root=data/synthvis/)')
    args = parser.parse_args(argv)
    if args.num_clips < 1:
        parser.error(f'--num-clips must be >= 1, got {args.num_clips}')
    return args


def to_bgr_frames(inputs) -> np.ndarray:
    """``(T, 3, H, W)`` tensor/array (BGR, uint8 or float in [0, 255]) ->
    ``(T, H, W, 3)`` uint8 BGR."""
    frames = inputs.detach().cpu().numpy() if hasattr(inputs, 'detach') \
        else np.asarray(inputs)
    if frames.ndim == 3:  # a single frame (3, H, W)
        frames = frames[None]
    assert frames.ndim == 4 and frames.shape[1] == 3, \
        f'expected inputs (T, 3, H, W), got {frames.shape}'
    if frames.dtype != np.uint8:
        frames = np.clip(np.round(frames), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(frames.transpose(0, 2, 3, 1))


def frame_annotations(
        frame_sample) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (n, 4) xyxy, labels (n,), instance ids (n,) and masks
    (n, H, W) of one frame at the size of the pipeline output.

    Uses ``gt_instances`` (train pipelines) or, when the pipeline loaded no
    annotation (test), the raw ``instances`` of the meta, rescaled.
    """
    gt = frame_sample.gt_instances
    h, w = frame_sample.metainfo['img_shape'][:2]
    if 'bboxes' in gt and len(gt) > 0:
        bboxes = gt.bboxes
        bboxes = bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes
        bboxes = np.asarray(bboxes.detach().cpu().numpy(), np.float32)
        labels = np.asarray(gt.labels.cpu().numpy(), np.int64)
        ids = np.asarray(gt.instances_ids.cpu().numpy(), np.int64) \
            if 'instances_ids' in gt else np.arange(len(bboxes))
        if 'masks' in gt:
            masks = gt.masks
            masks = masks.to_ndarray() if hasattr(masks, 'to_ndarray') \
                else np.asarray(masks)
        else:
            masks = np.zeros((len(bboxes), h, w), np.uint8)
        return bboxes, labels, ids, masks.astype(bool)

    meta = frame_sample.metainfo
    insts = [i for i in meta.get('instances', []) or []]
    if not insts:
        return (np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                np.zeros(0, np.int64), np.zeros((0, h, w), bool))
    ori_h, ori_w = meta['ori_shape'][:2]
    sx, sy = meta.get('scale_factor', (w / ori_w, h / ori_h))[:2]
    bboxes = np.array([i['bbox'] for i in insts], np.float32)
    bboxes *= np.array([sx, sy, sx, sy], np.float32)
    labels = np.array([i['bbox_label'] for i in insts], np.int64)
    ids = np.array([i.get('instance_id', k) for k, i in enumerate(insts)],
                   np.int64)
    masks = np.zeros((len(insts), h, w), bool)
    for k, inst in enumerate(insts):
        if inst.get('mask') is None:
            continue
        m = mask_utils.decode(segmentation_to_rle(inst['mask'], ori_h, ori_w))
        masks[k] = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return bboxes, labels, ids, masks


def draw_clip(item: dict, classes: Sequence[str]) -> np.ndarray:
    """One pipeline output (``inputs`` (T, 3, H, W), ``data_samples`` a
    TrackDataSample of T frames) -> (H, T * W, 3) BGR uint8."""
    frames = to_bgr_frames(item['inputs'])
    samples = item['data_samples']
    assert len(samples) == len(frames), \
        f'{len(frames)} frames but {len(samples)} frame data samples'
    drawn = [
        draw_frame(img, *frame_annotations(samples[t]), classes=classes)
        for t, img in enumerate(frames)
    ]
    return np.concatenate(drawn, axis=1)


def sample_indices(dataset, split: str,
                   num: int) -> List[Union[int, Tuple[int, int]]]:
    """``num`` dataset indices spread over the dataset: video indices for a
    training dataset (the pipeline picks the key frame), ``(video, clip)``
    for a test-mode dataset."""
    if getattr(dataset, 'test_mode', False):
        if not hasattr(dataset, 'num_clips'):
            raise TypeError(f'{type(dataset).__name__} in test mode has no '
                            'num_clips(video_index): not a CiCo VIS dataset')
        pool = [(v, c) for v in range(len(dataset))
                for c in range(dataset.num_clips(v))]
    else:
        pool = list(range(len(dataset)))
    if not pool:
        raise ValueError(f'the {split} dataset is empty')
    if num <= len(pool):
        picks = np.linspace(0, len(pool) - 1, num).round().astype(int)
    else:  # more clips than items: go round again (new random key frames)
        picks = np.arange(num) % len(pool)
    return [pool[i] for i in picks]


def clip_name(split: str, k: int, item: dict) -> str:
    samples = item['data_samples']
    first, last = samples[0].metainfo, samples[len(samples) - 1].metainfo
    video = osp.basename(osp.dirname(first.get('img_path', ''))) or \
        f'video{first.get("video_id", "")}'
    return (f'{split}_{k:03d}_{video}_'
            f'f{first.get("frame_id", 0)}-{last.get("frame_id", 0)}.png')


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if args.seed is not None:
        random.seed(args.seed)
        np.random.seed(args.seed)

    loader_key = f'{args.split}_dataloader'
    if cfg.get(loader_key, None) is None:
        sys.exit(f'the config has no {loader_key}')
    dataset = DATASETS.build(cfg[loader_key].dataset)
    classes = dataset.metainfo.get('classes') or ()
    out_dir = args.output_dir or osp.join(
        'work_dirs', 'browse_dataset',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)

    written = []
    for k, idx in enumerate(
            sample_indices(dataset, args.split, args.num_clips)):
        item = dataset[idx]
        if item is None:
            print(f'[browse] {args.split} item {idx}: the pipeline returned '
                  'None, skipped')
            continue
        canvas = draw_clip(item, classes)
        path = osp.join(out_dir, clip_name(args.split, k, item))
        if not cv2.imwrite(path, canvas):
            sys.exit(f'could not write {path}')
        print(path)
        written.append(path)
    print(f'[browse] {len(written)} clips written to {out_dir}')
    return written


if __name__ == '__main__':
    main()
