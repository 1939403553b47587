"""ClipNetwork (the exportable per-clip network), CiCo.predict_from_outputs
(post-processing of dense outputs computed elsewhere) and the half-precision
switch, on a small random CiCo-Yolact."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config

from projects.cico.models.vis import ClipNetwork
from projects.cico.models.vis.cico import to_float32

CONFIG = 'configs/cico_yolact_r18_synthvis.py'
H, W = 64, 96


def small_model(with_quality=True):
    cfg = copy.deepcopy(Config.fromfile(CONFIG).model)
    cfg.bbox_head.with_quality = with_quality
    # keep candidates of the random model, so post-processing has work
    cfg.test_cfg.score_thr = 0.0
    cfg.test_cfg.nms_pre = 50
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def clip_samples(t=3, clip_index=0, last=True):
    frames = []
    for k in range(t):
        frames.append(
            DetDataSample(
                metainfo=dict(
                    img_shape=(H, W),
                    ori_shape=(H, W),
                    batch_input_shape=(H, W),
                    pad_shape=(H, W),
                    scale_factor=(1.0, 1.0),
                    frame_id=k,
                    video_id=1,
                    clip_index=clip_index,
                    is_last_clip=last,
                    is_output_frame=True,
                    is_new_frame=True,
                    is_pad_frame=False)))
    sample = TrackDataSample()
    sample.video_data_samples = frames
    return [sample]


@pytest.mark.parametrize('with_quality', [True, False])
def test_outputs_and_unflatten_match_the_heads(with_quality):
    model = small_model(with_quality)
    net = ClipNetwork(model)
    clip = torch.randn(3, 3, H, W)
    with torch.no_grad():
        flat = net(clip)
        x = model.extract_feat(clip)
        head_outs = model.bbox_head(x)
        protos = model.mask_head(x)[0]
    kinds = 5 if with_quality else 4
    assert len(flat) == len(net.output_names) == kinds * 5 + 1
    assert net.output_names[0] == 'cls_score_0'
    assert net.output_names[-1] == 'protos'
    outs, got_protos = net.unflatten(flat)
    assert torch.equal(got_protos, protos)
    assert got_protos.shape == (1, 32, 3, H // 4, W // 4)
    for kind, (mine, ref) in enumerate(zip(outs, head_outs)):
        for lvl in range(5):
            if ref[lvl] is None:
                assert mine[lvl] is None and kind == 3
            else:
                assert torch.equal(mine[lvl], ref[lvl])
    with pytest.raises(ValueError, match='has 26 outputs'):
        ClipNetwork(small_model(True)).unflatten(flat[:-2])


def test_dense_outputs_give_the_streaming_predictions():
    """predict (sparse towers at the candidates) and predict_from_outputs
    (the dense network outputs) give the same tracks, boxes and masks."""
    model = small_model()
    inputs = torch.randn(1, 3, 3, H, W)
    with torch.no_grad():
        ref = model.predict(inputs, clip_samples())[0]
        net = ClipNetwork(model)
        head_outs, protos = net.unflatten(net(inputs[0]))
        got = model.predict_from_outputs(head_outs, protos, clip_samples())[0]
    num = 0
    for a, b in zip(ref, got):
        pa, pb = a.pred_track_instances, b.pred_track_instances
        num += len(pa)
        assert pa.instances_id.tolist() == pb.instances_id.tolist()
        assert pa.labels.tolist() == pb.labels.tolist()
        torch.testing.assert_close(pa.scores, pb.scores, atol=1e-5, rtol=0)
        torch.testing.assert_close(pa.bboxes, pb.bboxes, atol=1e-3, rtol=0)
        assert [m['counts'] for m in pa.masks] == \
            [m['counts'] for m in pb.masks]
    assert num > 0
    assert model.stream.is_empty


def test_half_precision_runs_the_network_in_bf16_on_cpu():
    model = small_model()
    assert not model.half_precision
    seen = []
    model.backbone.register_forward_hook(
        lambda m, i, out: seen.append(out[0].dtype))
    model.mask_head.proto_out.register_forward_hook(
        lambda m, i, out: seen.append(out.dtype))
    inputs = torch.randn(1, 3, 3, H, W)
    with torch.no_grad():
        model.predict(inputs, clip_samples())
        model.half_precision = True
        out = model.predict(inputs, clip_samples())[0]
    assert seen == [torch.float32] * 2 + [torch.bfloat16] * 2
    # post-processing in float32: scores and boxes come out float32
    assert all(f.pred_track_instances.scores.dtype == torch.float32
               for f in out)


def test_fp16_from_the_config_and_to_float32():
    cfg = copy.deepcopy(Config.fromfile(CONFIG).model)
    cfg.test_cfg.fp16 = True
    assert MODELS.build(cfg).half_precision
    nested = (torch.ones(2, dtype=torch.bfloat16), [
        torch.ones(1, dtype=torch.float16),
        torch.ones(1, dtype=torch.long)
    ], None)
    a, (b, c), d = to_float32(nested)
    assert a.dtype == b.dtype == torch.float32
    assert c.dtype == torch.long and d is None


def test_a_clip_without_layout_is_refused():
    """A test clip that says neither where it sits in its video nor what
    it emits is an error naming it, not clip 0 of a new video."""
    model = small_model()
    samples = clip_samples()
    for frame in samples[0]:
        del frame.clip_index  # the layout's keys, one of them missing
    with pytest.raises(
            ValueError, match=r'test clip of video 1 \(frames \[0, 1, 2\]\)'):
        model.predict(torch.randn(1, 3, 3, H, W), samples)
