"""Convert the authors' CiCo checkpoints to this project's models.

    python tools/model_converters/cico_official_to_mmdet.py SRC DST \
        [--config CONFIG]

SRC is one of the authors' files
(docs/reference_implementation.md#checkpoints): a bare
``torch.save(state_dict)`` of their modules, e.g.
``cico_yolact_r50_yt19_f3.pth`` or the frame-level
``resnet50_coco_yolact.pth``.
DST is an mmengine checkpoint (``state_dict`` + ``meta.dataset_meta`` +
``meta.trained_with``, the normalisation and neck) for the main config of the
variant, ``configs/cico_{yolact,condinst}_{r50,r101,swint}_{ytvis19,ytvis21,
ovis}.py`` (the authors' recipe, under which the model computes what the
authors' model did), or for a COCO file ``configs/reference/<SRC stem>.py``.
The variant (Yolact/CondInst, backbone, dataset) is read from the tensors; the
file name only separates YouTube-VIS 2019 from 2021 (same shapes), or
``--config`` names the config outright.

What the conversion does, besides renaming:

- strips ``module.`` and applies the authors' legacy renames;
- reverses the FPN lists (the authors' index 0 is the C5/P5 level);
- folds each conv bias that feeds a BatchNorm into that BN:
  ``BN(conv(x) + b)`` equals ``BN'(conv(x))`` with
  ``running_mean' = running_mean - b`` (our convs before a norm have no bias);
- converts the Swin-T backbone with mmdet's own ``swin_converter``;
- OVIS (softmax): moves the background logit from channel 0 of each anchor's
  block of 26 to the last channel (mmdet's softmax convention);
- COCO frame-level models have no track head: the T = 1 config's track tower
  and layer are initialised as the model initialises them, listed in
  ``meta.cico_converter.initialised`` and printed.

Anchor order and per-anchor channel layout need no reordering: the authors'
ratios [1, 0.5, 2] (w / h) and mmdet's ``ratios=[1.0, 2.0, 0.5]`` (h / w) give
the same anchors in the same order (level, y, x, ratio), and every prediction
layer is anchor-major in both models (4T box deltas frame-major, then
dx, dy, dw, dh). ``tests/test_tools/test_model_converter.py`` checks both.

Nothing is dropped silently: an unknown key, a tensor whose shape does not fit
the config's model, or a variant the tensors cannot tell apart is an error that
names the key, the shapes and what to pass. The last step loads DST strictly
into the config's model and prints ``N tensors converted, 0 missing, 0
unexpected``.
"""
import argparse
import copy
import logging
import os.path as osp
import re
import sys
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

# the repo root first on sys.path, so `projects.cico` imports without install
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

StateDict = Dict[str, Tensor]

NUM_ANCHORS = 3  # per location, docs/reference_implementation.md#anchors
# mask parameters per anchor -> mask head (Yolact coefficients, CondInst's
# dynamic FCN with one Gaussian coordinate channel)
MASK_VARIANTS = {32: 'yolact', 161: 'condinst'}
RESNET_C4_BLOCKS = {6: 'r50', 23: 'r101'}
COCO_ARCH_NAMES = {'r50': 'resnet50', 'r101': 'resnet101', 'swint': 'swint'}
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
# the authors' frame-level COCO models (T = 1, 80 classes)
REFERENCE_DIR = osp.join(CONFIG_DIR, 'reference')
DATA_CONFIG_NAMES = dict(yt19='ytvis19', yt21='ytvis21', ovis='ovis')
# the authors' loader renames these (docs/reference_implementation.md
# #checkpoints)
LEGACY_PREFIXES = (('prediction_layers.0.', 'prediction_layers.'),
                   ('proto_net.', 'ProtoNet.proto_net.'),
                   ('proto_conv.', 'ProtoNet.proto_conv.'),
                   ('mask_refine.', 'ProtoNet.mask_refine.'))
BN_KEYS = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
# file-name words -> (field, value) of the variant
NAME_WORDS = dict(
    yolact=('mask', 'yolact'),
    condinst=('mask', 'condinst'),
    r50=('arch', 'r50'),
    resnet50=('arch', 'r50'),
    r101=('arch', 'r101'),
    resnet101=('arch', 'r101'),
    swint=('arch', 'swint'),
    swin=('arch', 'swint'),
    yt19=('data', 'yt19'),
    ytvis19=('data', 'yt19'),
    yt21=('data', 'yt21'),
    ytvis21=('data', 'yt21'),
    ovis=('data', 'ovis'),
    coco=('data', 'coco'))
# tensors of the T = 1 config that the COCO frame-level models lack
COCO_NEW_PREFIXES = ('bbox_head.track_tower.', 'bbox_head.conv_track.')


class ConversionError(ValueError):
    """A key, a shape or a variant the converter cannot map; the message
    names it and says what to pass."""


@dataclass(frozen=True)
class Variant:
    """One of the authors' model variants.

    Attributes:
        mask (str): 'yolact' or 'condinst'.
        arch (str): 'r50', 'r101' or 'swint'.
        data (str): 'yt19', 'yt21', 'yt' (YouTube-VIS, year unknown),
            'ovis' or 'coco' (frame-level, T = 1).
    """
    mask: str
    arch: str
    data: str

    @property
    def name(self) -> str:
        return f'{self.mask}_{self.arch}_{self.data}'

    @property
    def num_classes(self) -> int:
        """Foreground classes (OVIS adds a softmax background)."""
        return {'ovis': 25, 'coco': 80}.get(self.data, 40)

    def config_path(self) -> str:
        """The config whose model the file fits: the main config of the
        variant (``configs/cico_yolact_r50_ytvis19.py``: the authors'
        recipe), or for a frame-level COCO model the authors' file name
        under ``configs/reference/`` (``resnet50_coco_yolact.py``)."""
        if self.data == 'coco':
            arch = COCO_ARCH_NAMES[self.arch]
            return osp.join(REFERENCE_DIR, f'{arch}_coco_{self.mask}.py')
        if self.data == 'yt':
            raise ConversionError(
                'YouTube-VIS 2019 and 2021 checkpoints have the same shapes '
                'and the file name says neither (yt19 / yt21): pass --config '
                f'{self._relpath("yt19")} or --config {self._relpath("yt21")}')
        data = DATA_CONFIG_NAMES[self.data]
        return osp.join(CONFIG_DIR, f'cico_{self.mask}_{self.arch}_{data}.py')

    def _relpath(self, data: str) -> str:
        return osp.relpath(Variant(self.mask, self.arch, data).config_path())


# ------------------------------------------------------------------ source
def load_source(path: str) -> StateDict:
    """The authors' file as a state dict with normalised key names."""
    from projects.cico.utils.trusted_checkpoint import (
        UntrustedCheckpointError, load_checkpoint_file)
    try:  # weights_only=True unless CICO_TRUST_CHECKPOINTS=1
        obj = load_checkpoint_file(path, map_location='cpu')
    except UntrustedCheckpointError as e:
        raise ConversionError(str(e)) from None
    except Exception as e:  # not a plain tensor pickle
        raise ConversionError(
            f'{path}: cannot be read as a plain state dict of tensors '
            f'({type(e).__name__}: {e})') from e
    if not isinstance(obj, dict):
        raise ConversionError(f'{path}: holds a {type(obj).__name__}, not '
                              "the authors' bare state dict")
    if isinstance(obj.get('state_dict'), dict):
        raise ConversionError(
            f'{path}: has a "state_dict" entry, so it is an mmengine '
            "checkpoint already, not one of the authors' bare state dicts")
    return normalise_keys(obj)


def normalise_keys(state: StateDict) -> StateDict:
    """Strip ``module.`` (distributed runs) and apply the legacy renames."""
    out: StateDict = OrderedDict()
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise ConversionError(
                f'{key}: a {type(value).__name__}, not a tensor')
        new = key[len('module.'):] if key.startswith('module.') else key
        for old, repl in LEGACY_PREFIXES:
            if new.startswith(old):
                new = repl + new[len(old):]
                break
        if new in out:
            raise ConversionError(f'{key} and another key both become {new}')
        out[new] = value
    return out


# ----------------------------------------------------------------- variant
def _shape(state: StateDict, key: str) -> Tuple[int, ...]:
    if key not in state:
        raise ConversionError(
            f'{key} is missing: not a checkpoint of the authors\' CiCo '
            '(or a truncated one)')
    return tuple(state[key].shape)


def detect_arch(state: StateDict) -> str:
    """'swint', 'r50' or 'r101' from the backbone keys."""
    if any(k.startswith('backbone.patch_embed.') for k in state):
        return 'swint'
    blocks = {
        k.split('.')[3]
        for k in state if k.startswith('backbone.layer.2.')
    }
    if len(blocks) in RESNET_C4_BLOCKS:
        return RESNET_C4_BLOCKS[len(blocks)]
    raise ConversionError(
        f'unknown backbone: {len(blocks)} blocks in backbone.layer.2 '
        '(ResNet-50 has 6, ResNet-101 23) and no Swin backbone.patch_embed')


def detect_mask(state: StateDict) -> str:
    """'yolact' or 'condinst' from the mask parameters per anchor."""
    key = 'prediction_layers.mask_layer.weight'
    out = _shape(state, key)[0]
    num = out // NUM_ANCHORS
    if out % NUM_ANCHORS or num not in MASK_VARIANTS:
        raise ConversionError(
            f'{key} has {out} outputs ({out / NUM_ANCHORS:g} mask '
            f'parameters per anchor): neither Yolact (32) nor the authors\' '
            'CondInst with one Gaussian coordinate channel (161)')
    return MASK_VARIANTS[num]


def detect_data(state: StateDict) -> str:
    """'yt' (40 classes, sigmoid), 'ovis' (25 + background, softmax) or
    'coco' (80 classes, frame-level: no track head)."""
    key = 'prediction_layers.conf_layer.weight'
    out = _shape(state, key)[0]
    vis = 'prediction_layers.track_layer.weight' in state
    known = {(True, 40): 'yt', (True, 26): 'ovis', (False, 80): 'coco'}
    data = known.get((vis, out // NUM_ANCHORS)) if out % 3 == 0 else None
    if data is None:
        raise ConversionError(
            f'{key} has {out} outputs and the file has '
            f'{"a" if vis else "no"} track head: expected 3 x 40 '
            '(YouTube-VIS), 3 x 26 (OVIS, with track head) or 3 x 80 (COCO, '
            'without)')
    return data


def name_hints(filename: str) -> Dict[str, str]:
    """What the file name says about the variant (may be nothing)."""
    tokens = set(re.split(r'[^a-z0-9]+', osp.basename(filename).lower()))
    found: Dict[str, set] = {}
    for token in tokens & set(NAME_WORDS):
        field, value = NAME_WORDS[token]
        found.setdefault(field, set()).add(value)
    return {f: v.pop() for f, v in found.items() if len(v) == 1}


def detect_variant(state: StateDict, filename: str = '') -> Variant:
    """The variant from the tensors, cross-checked with the file name; the
    name only decides the YouTube-VIS year."""
    found = dict(
        mask=detect_mask(state),
        arch=detect_arch(state),
        data=detect_data(state))
    for field, hint in name_hints(filename).items():
        if field == 'data' and found['data'] == 'yt' and hint in ('yt19',
                                                                  'yt21'):
            found['data'] = hint
        elif hint != found[field]:
            raise ConversionError(
                f'the file name {osp.basename(filename)!r} says {field} '
                f'{hint!r} but its tensors are {found[field]!r}: rename the '
                'file or pass --config for the model it really holds')
    return Variant(**found)


# ------------------------------------------------------------- key mapping
# A rule: (regex on the authors' key, target key builder, kind). Kinds:
# 'copy'; 'fold' (a conv bias whose BN follows: the target is the BN's
# prefix); 'cls' (class logits: softmax background moved, see below).
Rule = Tuple[str, Callable[[Sequence[str]], str], str]
HEADS = dict(conf='cls_tower', bbox='box_tower', track='track_tower')
FINAL = dict(
    conf='conv_cls',
    bbox='conv_reg',
    centerness='conv_quality',
    mask='conv_coeff',
    track='conv_track')


def _proto_net(m: Sequence[str]) -> str:
    """``ProtoNet.proto_net.{3i: conv, 3i+1: BN, 3i+2: ReLU}``: the conv
    weight and the BN tensors (the conv bias is folded, see
    :func:`_proto_net_bias`)."""
    idx, name = int(m[1]), m[2]
    if idx % 3 == 0 and name == 'weight':
        return f'mask_head.proto_tower.convs.{idx // 3}.conv.weight'
    if idx % 3 == 1:
        return f'mask_head.proto_tower.convs.{idx // 3}.bn.{name}'
    return ''


def _proto_net_bias(m: Sequence[str]) -> str:
    """The BN fed by conv ``ProtoNet.proto_net.{3i}`` (its bias folds)."""
    idx = int(m[1])
    return f'mask_head.proto_tower.convs.{idx // 3}.bn' if idx % 3 == 0 \
        else ''


def _tower(m: Sequence[str]) -> str:
    """``{conf,bbox,track}_extra.{2i: conv, 2i+1: ReLU}``."""
    idx = int(m[2])
    if idx % 2:
        return ''
    return f'bbox_head.{HEADS[m[1]]}.convs.{idx // 2}.conv.{m[3]}'


RULES: List[Rule] = [
    (r'backbone\.(conv1\.weight|bn1\.' + BN_KEYS + ')',
     lambda m: f'backbone.{m[1]}', 'copy'),
    (r'backbone\.layer\.([0-3])\.(\d+\..+)',
     lambda m: f'backbone.layer{int(m[1]) + 1}.{m[2]}', 'copy'),
    # FPN lists in reverse: index 0 reads C5 / makes P5
    (r'fpn\.lat_layers\.([0-2])\.(weight|bias)',
     lambda m: f'neck.lateral_convs.{2 - int(m[1])}.conv.{m[2]}', 'copy'),
    (r'fpn\.pred_layers\.([0-2])\.(weight|bias)',
     lambda m: f'neck.fpn_convs.{2 - int(m[1])}.conv.{m[2]}', 'copy'),
    (r'fpn\.downsample_layers\.([01])\.(weight|bias)',
     lambda m: f'neck.fpn_convs.{3 + int(m[1])}.conv.{m[2]}', 'copy'),
    (r'ProtoNet\.mask_refine\.(\d)\.0\.weight',
     lambda m: f'mask_head.refine.{m[1]}.conv.weight', 'copy'),
    (r'ProtoNet\.mask_refine\.(\d)\.0\.bias',
     lambda m: f'mask_head.refine.{m[1]}.bn', 'fold'),
    (r'ProtoNet\.mask_refine\.(\d)\.1\.' + BN_KEYS,
     lambda m: f'mask_head.refine.{m[1]}.bn.{m[2]}', 'copy'),
    (r'ProtoNet\.proto_net\.(\d+)\.bias', _proto_net_bias, 'fold'),
    (r'ProtoNet\.proto_net\.(\d+)\.' + BN_KEYS, _proto_net, 'copy'),
    (r'ProtoNet\.proto_conv\.0\.weight',
     lambda m: 'mask_head.proto_conv.conv.weight', 'copy'),
    (r'ProtoNet\.proto_conv\.0\.bias', lambda m: 'mask_head.proto_conv.bn',
     'fold'),
    (r'ProtoNet\.proto_conv\.1\.' + BN_KEYS,
     lambda m: f'mask_head.proto_conv.bn.{m[1]}', 'copy'),
    (r'ProtoNet\.proto_conv\.3\.(weight|bias)',
     lambda m: f'mask_head.proto_out.{m[1]}', 'copy'),
    (r'prediction_layers\.(conf|bbox|track)_extra\.(\d+)\.(weight|bias)',
     _tower, 'copy'),
    (r'prediction_layers\.conf_layer\.(weight|bias)',
     lambda m: f'bbox_head.conv_cls.{m[1]}', 'cls'),
    (r'prediction_layers\.(bbox|centerness|mask|track)_layer\.'
     r'(weight|bias)', lambda m: f'bbox_head.{FINAL[m[1]]}.{m[2]}', 'copy'),
]


def map_key(key: str) -> Tuple[str, str]:
    """(target key, kind) of one of the authors' non-Swin keys."""
    for pattern, target, kind in RULES:
        m = re.fullmatch(pattern, key)
        if m is not None:
            new = target(m)
            if new:
                return new, kind
    raise ConversionError(
        f'unknown key {key!r}: no counterpart in this project\'s CiCo (a '
        'newer or modified version of the authors\' code?); nothing was '
        'written')


def move_softmax_background(x: Tensor, num_classes: int) -> Tensor:
    """Class rows of a softmax head: per anchor, the authors' block
    ``[bg, c_1, ..., c_C]`` becomes mmdet's ``[c_1, ..., c_C, bg]``."""
    blocks = x.reshape(NUM_ANCHORS, num_classes + 1, *x.shape[1:])
    order = list(range(1, num_classes + 1)) + [0]
    return blocks[:, order].reshape(x.shape)


def convert_swin(state: StateDict) -> StateDict:
    """``backbone.*`` of the original Swin naming -> mmdet's
    ``SwinTransformer`` with mmdet's own converter (it also reorders the
    patch-merging channels; it returns ``backbone.``-prefixed keys)."""
    from mmdet.models.backbones.swin import swin_converter
    src = OrderedDict((k[len('backbone.'):], v) for k, v in state.items())
    out = swin_converter(src)
    if len(out) != len(src):  # it skips classifier ('head.*') keys
        dropped = sorted(k for k in src if k.startswith('head'))
        raise ConversionError(
            f'mmdet\'s swin_converter kept {len(out)} of {len(src)} Swin '
            f'tensors (dropped: {dropped[:5]}); the CiCo backbone has no '
            'classifier head: remove those keys from the file first')
    return OrderedDict((k if k.startswith('backbone.') else f'backbone.{k}', v)
                       for k, v in out.items())


def convert_state_dict(state: StateDict,
                       variant: Variant) -> Tuple[StateDict, Dict[str, str]]:
    """The authors' tensors under this project's names.

    Returns:
        tuple: the converted state dict and, for every converted key, the
        authors' key(s) it came from (for error messages).
    """
    out: StateDict = OrderedDict()
    sources: Dict[str, str] = {}
    folds, swin = [], OrderedDict()
    for key, value in state.items():
        if variant.arch == 'swint' and key.startswith('backbone.'):
            swin[key] = value
            continue
        target, kind = map_key(key)
        if kind == 'fold':
            folds.append((target, value, key))
            continue
        if kind == 'cls' and variant.data == 'ovis':
            value = move_softmax_background(value, variant.num_classes)
        if target in out:
            raise ConversionError(
                f'{sources[target]} and {key} both map to {target}')
        out[target], sources[target] = value, key
    if swin:
        for (target, value), key in zip(convert_swin(swin).items(), swin):
            out[target], sources[target] = value, key
    for bn, bias, key in folds:
        mean = f'{bn}.running_mean'
        if mean not in out or out[mean].shape != bias.shape:
            raise ConversionError(
                f'{key} {list(bias.shape)} feeds a BatchNorm, but its '
                f'running mean ({sources.get(mean, "no key")}) is '
                f'{list(out[mean].shape) if mean in out else "missing"}')
        # BN(conv(x) + b) = BN'(conv(x)) with running_mean' = mean - b
        out[mean] = out[mean] - bias
        sources[mean] = f'{sources[mean]} - {key}'
    return out, sources


# ------------------------------------------------------------ target model
def build_model(cfg) -> torch.nn.Module:
    """The config's model as the target of the strict load, without
    pretrained downloads.

    Every tensor of its state dict comes from the converted file, so the
    model is built on the meta device and allocated without initialisation
    (several times faster); models that compute values while being built
    (Swin) are built on the CPU. Anything outside the state dict (anchor
    tables) stays unusable: load the written checkpoint into a model of your
    own for inference.
    """
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    try:
        with torch.device('meta'):
            model = MODELS.build(model_cfg)
    except RuntimeError:  # e.g. Tensor.item() on the meta device
        return MODELS.build(model_cfg)
    return model.to_empty(device='cpu')


def check_head(model: torch.nn.Module, variant: Variant, config: str) -> None:
    """The config's class head matches the file: sigmoid with C outputs
    (YouTube-VIS, COCO) or softmax with C + 1 (OVIS); and its anchor-major
    prediction layers (``ANCHOR_LAYERS``) are the authors' final layers,
    which are anchor-major too, so their channels copy as they are."""
    head = model.bbox_head
    declared = set(getattr(head, 'ANCHOR_LAYERS', ()))
    if declared != set(FINAL.values()):
        raise ConversionError(
            f'{config}: the head declares {sorted(declared)} anchor-major, '
            f'the authors\' final layers map to {sorted(FINAL.values())}: '
            'their channels would need reordering')
    softmax = variant.data == 'ovis'
    if head.num_classes != variant.num_classes or \
            head.use_sigmoid_cls == softmax:
        raise ConversionError(
            f'{config}: {head.num_classes} classes with a '
            f'{"sigmoid" if head.use_sigmoid_cls else "softmax"} head, but '
            f'the file ({variant.name}) has {variant.num_classes} classes '
            f'with a {"softmax" if softmax else "sigmoid"} head: pass '
            f'--config {osp.relpath(_default_config(variant))}')


def _default_config(variant: Variant) -> str:
    try:
        return variant.config_path()
    except ConversionError:  # YouTube-VIS year unknown
        return Variant(variant.mask, variant.arch, 'yt19').config_path()


def init_new_track_head(model: torch.nn.Module,
                        converted: StateDict,
                        variant: Variant,
                        seed: int = 0) -> List[str]:
    """COCO frame-level files have no track head; the T = 1 config has one.
    Its tensors are initialised as the head initialises itself (Xavier
    tower, N(0, 0.01) layer; the authors' VIS training starts the track head
    from scratch too). Returns their keys (empty for VIS files)."""
    if variant.data != 'coco':
        return []
    new = [
        k for k in model.state_dict()
        if k.startswith(COCO_NEW_PREFIXES) and k not in converted
    ]
    if new:
        torch.manual_seed(seed)
        with _quiet_init_log():
            model.bbox_head.init_weights()
        fresh = model.state_dict()
        for key in new:
            converted[key] = fresh[key].clone()
    return new


@contextmanager
def _quiet_init_log():
    """mmengine logs every initialised tensor at INFO level."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_against(converted: StateDict, sources: Dict[str, str],
                  model: torch.nn.Module, config: str) -> None:
    """Every converted tensor has a place of its shape in the model and
    every tensor of the model is filled; otherwise an error listing them."""
    target = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    problems = []
    for key, value in converted.items():
        src = sources.get(key, 'initialised')
        if key not in target:
            problems.append(f'{src} -> {key}: no such tensor in the model')
        elif tuple(value.shape) != target[key]:
            problems.append(f'{src} -> {key}: {list(value.shape)} in the '
                            f'file, {list(target[key])} in the model')
    missing = [k for k in target if k not in converted]
    if missing:
        problems.append(f'{len(missing)} tensors of the model are not in '
                        f'the file, e.g. {missing[:3]}')
    if problems:
        shown = '\n  '.join(problems[:8])
        more = f'\n  ... {len(problems) - 8} more' if len(problems) > 8 \
            else ''
        raise ConversionError(
            f'the file does not fit the model of {config}:\n  {shown}{more}\n'
            'Pass --config with a config whose model has the file\'s shapes '
            '(e.g. a copy of that config with the FPN / head / prototype '
            'channels of the file: the authors\' COCO Swin-T Yolact config '
            'used 192 FPN channels, the reference config 256).')


def dataset_classes(cfg, variant: Variant) -> Tuple[str, ...]:
    """Class names for ``meta.dataset_meta``: COCO's for the frame-level
    files, else those of the config's test dataset."""
    if variant.data == 'coco':
        from mmdet.datasets import CocoDataset
        return tuple(CocoDataset.METAINFO['classes'])
    from mmdet.registry import DATASETS
    dataset = cfg.test_dataloader.dataset
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = DATASETS.get(dataset.type).METAINFO['classes']
    return tuple(classes)


# ---------------------------------------------------------------- pipeline
def convert_checkpoint(state: StateDict,
                       filename: str = '',
                       config: Optional[str] = None,
                       seed: int = 0) -> Tuple[dict, torch.nn.Module, dict]:
    """The authors' (normalised) state dict -> an mmengine checkpoint for
    the config's model.

    Args:
        state (dict): :func:`load_source`'s output.
        filename (str): the source file name (YouTube-VIS year, checks).
        config (str, optional): config path; default: the reference config
            of the variant the tensors show.
        seed (int): seed of the tensors the file lacks (COCO track head).

    Returns:
        tuple: the checkpoint (``state_dict``, ``meta``), the config's model
        (not loaded yet) and a report (counts).
    """
    from mmengine.config import Config

    import projects.cico  # noqa: F401 (registers modules, trusted loader)
    from projects.cico.models.weight_init.trained_with import config_signature
    variant = detect_variant(state, filename)
    converted, sources = convert_state_dict(state, variant)
    config = config or variant.config_path()
    if not osp.isfile(config):
        raise ConversionError(f'no config {config} for {variant.name}: '
                              'pass --config')
    cfg = Config.fromfile(config)
    model = build_model(cfg)
    check_head(model, variant, config)
    initialised = init_new_track_head(model, converted, variant, seed)
    check_against(converted, sources, model, config)
    classes = dataset_classes(cfg, variant)
    if len(classes) != model.bbox_head.num_classes:
        raise ConversionError(
            f'{config}: {len(classes)} dataset classes for a head with '
            f'{model.bbox_head.num_classes}')
    meta = dict(
        dataset_meta=dict(classes=classes),
        # what the authors' model normalised with and its neck, checked
        # when the file initialises another model (InflatedPretrained)
        trained_with=config_signature(cfg.model),
        cico_converter=dict(
            source=osp.basename(filename),
            variant=variant.name,
            config=osp.relpath(osp.abspath(config), REPO_ROOT),
            initialised=initialised))
    report = dict(
        variant=variant.name,
        config=config,
        converted=len(state),
        written=len(converted),
        folded=len(state) - len(converted) + len(initialised),
        initialised=len(initialised))
    return dict(meta=meta, state_dict=converted), model, report


def load_strictly(model: torch.nn.Module,
                  checkpoint: dict) -> Tuple[List[str], List[str]]:
    """Load an mmengine checkpoint dict into ``model`` with mmengine,
    ``strict=True`` (raises on any missing, unexpected or misshapen
    tensor). Returns the (then empty) missing and unexpected keys."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    keys, target = set(checkpoint['state_dict']), set(model.state_dict())
    missing, unexpected = sorted(target - keys), sorted(keys - target)
    _load_checkpoint_to_model(model, checkpoint, strict=True)
    return missing, unexpected


def convert(src: str,
            dst: str,
            config: Optional[str] = None,
            seed: int = 0) -> dict:
    """Convert the file ``src`` into the mmengine checkpoint ``dst``, then
    read ``dst`` back and load it strictly into the config's model.
    Returns the report (counts, missing/unexpected, seconds); raises
    :class:`ConversionError` on anything it cannot map."""
    start = time.time()
    state = load_source(src)
    checkpoint, model, report = convert_checkpoint(state, src, config, seed)
    torch.save(checkpoint, dst)
    from mmengine.runner.checkpoint import _load_checkpoint
    missing, unexpected = load_strictly(
        model, _load_checkpoint(dst, map_location='cpu'))
    report.update(
        missing=len(missing),
        unexpected=len(unexpected),
        seconds=time.time() - start)
    return report


def format_report(report: dict, dst: str) -> str:
    """The lines the command prints."""
    lines = [
        f'{report["converted"]} tensors converted, {report["missing"]} '
        f'missing, {report["unexpected"]} unexpected',
        f'  variant {report["variant"]}, config '
        f'{osp.relpath(report["config"])}, wrote {dst} '
        f'({report["written"]} tensors, {report["folded"]} conv biases '
        f'folded into BatchNorm means, {report["seconds"]:.1f} s)'
    ]
    if report['initialised']:
        lines.append(f'  {report["initialised"]} tensors initialised, not '
                     'converted: the COCO frame-level models have no track '
                     'head (bbox_head.track_tower, bbox_head.conv_track)')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Convert the authors' CiCo checkpoints to mmdet")
    parser.add_argument('src', help="the authors' checkpoint (.pth)")
    parser.add_argument('dst', help='the mmengine checkpoint to write')
    parser.add_argument(
        '--config',
        help='config whose model the file fits (default: the main config '
        'of the variant, configs/cico_<mask>_<arch>_<data>.py, or '
        'configs/reference/<file stem>.py for a COCO model, chosen from the '
        'tensors and the file name)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        report = convert(args.src, args.dst, args.config)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(format_report(report, args.dst))
    return 0


if __name__ == '__main__':
    sys.exit(main())
