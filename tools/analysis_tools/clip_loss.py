"""Every loss term of a config on chosen clips: one forward in training mode.

    python tools/analysis_tools/clip_loss.py CONFIG [CHECKPOINT] \\
        --ann data/ytvis_2019/annotations/train.json \\
        --img-dir data/ytvis_2019/train/JPEGImages \\
        --clip 1:0,1,2 --clip 5:10,11,12 [--seed 0] [--cfg-options ...]

Builds the config's model (the checkpoint's weights, or a random
initialisation seeded by ``--seed`` without one: no pretrained file is
read), reads each ``--clip VIDEO_ID:F1,F2,...`` (frame indices into the
video's file list, as many as the config's clip length) through the config's
TRAINING pipeline with every random augmentation turned off (resize to the
pipeline's scale, normalisation, padding and ground truth as in training),
puts all clips in ONE batch, runs one forward in training mode (batch-norm
statistics from the batch; no optimiser step) and prints one line per loss
term, ``name value`` (7 significant digits), then ``loss value`` (their
sum). Two recipes, or two implementations of one, compare term by term on
the same clips (docs/training_recipe.md#checking-the-loss).
"""
import argparse
import copy
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence, Tuple

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import ConfigDict, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

# transforms that draw random numbers, and what replaces each: None drops
# it, a callable maps its config to a deterministic one
_RANDOM_TRANSFORMS = dict(
    RandomResize=lambda t: dict(
        type='Resize', scale=t['scale'], keep_ratio=t.get('keep_ratio', False)
    ),
    RandomCrop=None,
    RandomFlip=None,
    PhotoMetricDistortion=None,
    ClipExpand=None)


def is_random_transform(kind: str) -> bool:
    """A transform that draws random numbers: mmcv's ``cache_randomness``
    marks its methods (mmdet's and this project's random transforms), or
    its name says so."""
    from mmdet.registry import TRANSFORMS
    cls = TRANSFORMS.get(kind)
    return kind.startswith('Random') or bool(
        getattr(cls, '_methods_with_randomness', None))


def deterministic_pipeline(pipeline: Sequence[dict]) -> List[dict]:
    """The pipeline with every random transform dropped or replaced by its
    deterministic form (``RandomResize`` -> ``Resize`` at its scale);
    transforms nested in ``TransformBroadcaster`` / ``KeyMapper`` too. A
    random transform this tool does not know is an error naming it."""
    out = []
    for t in pipeline:
        t = copy.deepcopy(dict(t))
        kind = t['type'] if isinstance(t['type'], str) else t['type'].__name__
        if 'transforms' in t:
            t['transforms'] = deterministic_pipeline(t['transforms'])
            out.append(t)
        elif kind in _RANDOM_TRANSFORMS:
            repl = _RANDOM_TRANSFORMS[kind]
            if repl is not None:
                out.append(repl(t))
        elif is_random_transform(kind):
            raise ValueError(
                f'clip_loss: no deterministic form of the training transform '
                f'{kind!r}; known: {sorted(_RANDOM_TRANSFORMS)}')
        else:
            out.append(t)
    return out


def parse_clip(text: str) -> Tuple[int, List[int]]:
    """``'VIDEO_ID:F1,F2,F3'`` -> ``(video_id, [F1, F2, F3])``."""
    try:
        vid, frames = text.split(':')
        return int(vid), [int(f) for f in frames.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--clip {text!r}: expected VIDEO_ID:F1,F2,... (integers, e.g. '
            '3:0,1,2)') from None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print every loss term of a config on chosen clips '
        '(one training-mode forward, no optimiser step)')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint', nargs='?', help='weights (default: random init)')
    parser.add_argument(
        '--ann', required=True, help='YouTube-VIS style annotation json')
    parser.add_argument(
        '--img-dir', required=True, help='folder of the videos\' frames')
    parser.add_argument(
        '--clip',
        action='append',
        required=True,
        type=parse_clip,
        help='VIDEO_ID:F1,F2,... frame indices into the video (repeat for '
        'more clips; all go into one batch)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the random init')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load a checkpoint that needs unpickling (only files you '
        'trust)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)')
    return parser.parse_args(argv)


def build_dataset(cfg, ann: str, img_dir: str):
    """The config's training dataset on ``ann`` / ``img_dir`` with the
    deterministic training pipeline; videos without objects kept."""
    from mmdet.registry import DATASETS
    ds = copy.deepcopy(cfg.train_dataloader.dataset)
    if 'ann_file' not in ds and 'dataset' in ds:  # a dataset wrapper
        ds = ds.dataset
    ds.update(
        ann_file=osp.abspath(ann),
        data_root='',
        data_prefix=dict(img_path=osp.abspath(img_dir)),
        pipeline=deterministic_pipeline(ds.pipeline),
        filter_cfg=dict(filter_empty_gt=False))
    return DATASETS.build(ds)


def read_clips(dataset, clips: List[Tuple[int, List[int]]]) -> List[dict]:
    """One packed training sample per ``(video_id, frames)``."""
    index = {
        dataset.get_data_info(i)['video_id']: i
        for i in range(len(dataset))
    }
    samples = []
    for vid, frames in clips:
        if vid not in index:
            raise SystemExit(f'clip_loss: video id {vid} is not in the '
                             f'annotations (ids: {sorted(index)[:10]}...)')
        info = dataset.get_data_info(index[vid])
        info.update(
            clip_frame_ids=frames,
            clip_len=dataset.clip_len,
            frame_stride=dataset.frame_stride)
        samples.append(dataset.pipeline(info))
    return samples


def build_model(cfg, checkpoint: Optional[str], seed: int, device: str):
    """The config's model in training mode: the checkpoint's weights, or
    ``init_weights`` under ``seed`` with no pretrained file."""
    from mmdet.registry import MODELS
    if checkpoint is not None:
        from projects.cico.apis import init_model
        model = init_model(cfg, checkpoint, device)
    else:
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.pop('init_cfg', None)
        if isinstance(model_cfg.get('backbone'), (dict, ConfigDict)):
            model_cfg.backbone.init_cfg = None
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        model.init_weights()
        model.to(device)
    return model.train()


def clip_losses(cfg,
                checkpoint: Optional[str],
                ann: str,
                img_dir: str,
                clips: List[Tuple[int, List[int]]],
                seed: int = 0,
                device: str = 'cpu') -> dict:
    """``{term: value}`` of one training-mode forward on the clips (one
    batch), in the model's order."""
    from mmengine.logging import MMLogger

    import projects.cico  # noqa: F401  (registers the plugin)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    # the initialisers' per-parameter INFO lines would bury the result: a
    # new WARNING logger becomes mmengine's current one
    MMLogger.get_instance(f'clip_loss-{time.time_ns()}', log_level='WARNING')
    model = build_model(cfg, checkpoint, seed, device)
    samples = read_clips(build_dataset(cfg, ann, img_dir), clips)
    data = model.data_preprocessor(pseudo_collate(samples), training=True)
    with torch.no_grad():
        losses = model.loss(**data)
    return {k: float(v) for k, v in losses.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    from projects.cico.utils import load_tool_config
    from projects.cico.utils.trusted_checkpoint import trust_all_checkpoints
    args = parse_args(argv)
    if args.trust_checkpoint:
        trust_all_checkpoints()
    cfg = load_tool_config(args.config, args.cfg_options)
    losses = clip_losses(cfg, args.checkpoint, args.ann, args.img_dir,
                         args.clip, args.seed, args.device)
    for name, value in losses.items():
        print(f'{name} {value:.7g}')
    print(f'loss {sum(losses.values()):.7g}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
