"""What a checkpoint was trained with (normalisation, neck): read from the
converter's ``meta.trained_with`` or from the runner's ``meta.cfg``, and
compared with a model (docs/training_recipe.md#initialisation)."""
import copy
import os.path as osp

from mmdet.registry import MODELS
from mmengine.config import Config

from projects.cico.models.weight_init import trained_with

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTH = osp.join(ROOT, 'configs', 'cico_yolact_r18_synthvis.py')


def tiny_cfg():
    m = copy.deepcopy(Config.fromfile(SYNTH).model)
    m.neck.out_channels = 8
    m.bbox_head.in_channels = m.mask_head.in_channels = 8
    m.bbox_head.feat_channels = m.mask_head.proto_channels = 8
    return m


def test_converter_meta_wins_and_stats_compare_with_tolerance():
    meta = dict(
        trained_with=dict(mean=[1., 2., 3.], neck='ReferenceFPN'),
        cfg='model = dict(neck=dict(type="FPN"))')
    sig = trained_with.checkpoint_signature(meta)
    assert sig == dict(mean=[1., 2., 3.], neck='ReferenceFPN')
    # float32 buffers: 1e-4 relative passes, 1e-3 does not
    assert trained_with.signature_mismatches(
        sig, dict(mean=[1.00001, 2., 3.], neck='ReferenceFPN',
                  std=[9.])) == []
    assert trained_with.signature_mismatches(
        sig, dict(mean=[1., 2., 3.003], neck='FPN')) == [
            'mean: checkpoint [1.0, 2.0, 3.0], model [1.0, 2.0, 3.003]',
            'neck: checkpoint ReferenceFPN, model FPN'
        ]


def test_runner_checkpoint_records_its_config():
    """A checkpoint of this project's runner carries its config text in
    ``meta.cfg``: its normalisation and neck are read from it."""
    cfg = Config.fromfile(SYNTH)
    meta = dict(cfg=cfg.pretty_text)
    sig = trained_with.checkpoint_signature(meta)
    assert sig == dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        channel_swap=True,
        neck='FPN')
    model = MODELS.build(tiny_cfg())
    assert trained_with.signature_mismatches(
        sig, trained_with.model_signature(model)) == []
    model.data_preprocessor.mean.fill_(0.)
    assert trained_with.signature_mismatches(
        sig, trained_with.model_signature(model)) == [
            'mean: checkpoint [123.675, 116.28, 103.53], model [0.0, 0.0, '
            '0.0]'
        ]
    assert trained_with.checkpoint_signature(dict(cfg='not a config')) is None
    assert trained_with.checkpoint_signature({}) is None
