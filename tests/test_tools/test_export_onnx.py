"""tools/deployment/export_onnx.py and the onnxruntime backend
(projects.cico.apis.onnx_backend) on a random CiCo-Yolact (the tracks of a
trained model with both backends: test_learning_guard.py)."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from projects.cico.apis import init_model
from projects.cico.apis.onnx_backend import OrtClipModel
from projects.cico.models.vis import ClipNetwork
from tests.tool_output import TIME, assert_ratio_of_printed_times
from tools.deployment import export_onnx

ort = pytest.importorskip(
    'onnxruntime',
    reason='onnxruntime missing: pip install -r '
    'requirements/deploy.txt')

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(REPO_ROOT / 'configs' / 'cico_yolact_r18_synthvis.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> str:
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    path = tmp_path_factory.mktemp('onnx') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def run_both(onnx_file: str, model, clip: torch.Tensor) -> float:
    sess = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
    got = sess.run(None, {'clip': clip.numpy()})
    with torch.no_grad():
        ref = ClipNetwork(model)(clip)
    assert [g.shape for g in got] == [tuple(r.shape) for r in ref]
    return max(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref))


def test_static_export_matches_pytorch(checkpoint, tmp_path, capsys):
    out = str(tmp_path / 'net.onnx')
    assert export_onnx.main([CONFIG, checkpoint, '--out', out]) == 0
    printed = capsys.readouterr().out
    # the config's test scale (224, 128) is already a multiple of 32
    assert 'clip (T=3, 3, 128, 224) -> 26 outputs' in printed
    assert 'max abs difference' in printed
    model = init_model(CONFIG, checkpoint, 'cpu')
    torch.manual_seed(1)
    assert run_both(out, model, torch.randn(3, 3, 128, 224)) < 1e-4
    # fixed shape: onnxruntime refuses another size, naming both axes
    with pytest.raises(
            ort.capi.onnxruntime_pybind11_state.InvalidArgument,
            match=r'Got invalid dimensions for input: clip for the following '
            r'indices\n index: 2 Got: 96 Expected: 128\n index: 3 Got: 160 '
            r'Expected: 224\n'):
        run_both(out, model, torch.randn(3, 3, 96, 160))


def test_dynamic_export_takes_any_padded_size(checkpoint, tmp_path):
    out = str(tmp_path / 'dyn.onnx')
    assert export_onnx.main([
        CONFIG, checkpoint, '--out', out, '--dynamic', '--shape', '96', '160'
    ]) == 0
    model = init_model(CONFIG, checkpoint, 'cpu')
    for h, w in ((96, 160), (128, 224)):
        assert run_both(out, model, torch.randn(3, 3, h, w)) < 1e-4


def test_shape_errors(checkpoint, tmp_path):
    with pytest.raises(SystemExit, match='multiples of 32'):
        export_onnx.main([
            CONFIG, checkpoint, '--out',
            str(tmp_path / 'x.onnx'), '--shape', '100', '160'
        ])
    out = str(tmp_path / 'net.onnx')
    export_onnx.main([CONFIG, checkpoint, '--out', out, '--shape', '96', '96'])
    model = init_model(CONFIG, checkpoint, 'cpu')
    backend = OrtClipModel(model, out)
    with pytest.raises(ValueError, match=r'takes clips of shape'):
        backend._check_shape(torch.zeros(3, 3, 128, 224))
    backend._check_shape(torch.zeros(3, 3, 96, 96))


def test_export_of_another_config_is_refused(checkpoint, tmp_path):
    out = str(tmp_path / 'net.onnx')
    export_onnx.main([CONFIG, checkpoint, '--out', out, '--shape', '96', '96'])
    cfg = Config.fromfile(CONFIG)
    cfg.model.bbox_head.with_quality = False  # 21 outputs instead of 26
    torch.manual_seed(0)
    other = MODELS.build(cfg.model).eval()
    with pytest.raises(ValueError, match='does not match the model'):
        OrtClipModel(other, out)


def test_benchmark_times_pytorch_and_onnxruntime(checkpoint, tmp_path,
                                                 tool_runner):
    """``benchmark.py CONFIG CKPT --onnx F``: both backends timed in one
    run, the onnxruntime one without a conv count (no torch convs)."""
    out = str(tmp_path / 'net.onnx')
    assert export_onnx.main([CONFIG, checkpoint, '--out', out]) == 0
    proc = tool_runner('analysis_tools/benchmark.py', CONFIG, checkpoint,
                       '--onnx', out, '--num-clips', '1', '--warmup', '0',
                       '--input-size', '128', '224')
    assert proc.returncode == 0, proc.stderr[-3000:]
    torch_line = re.search(
        r'cico_yolact_r18_synthvis: ' + TIME + r' over 3 '
        r'frames.*conv GMACs per output frame', proc.stdout)
    ort_line = re.search(
        r'cico_yolact_r18_synthvis \(onnxruntime\): ' + TIME + r' over 3 '
        r'frames[^\n]*M parameters\n', proc.stdout)
    assert torch_line and ort_line, proc.stdout
    ratio = re.findall(
        r'ratio onnxruntime / PyTorch: (\d+\.\d\d)x time per output frame',
        proc.stdout)
    assert len(ratio) == 1, proc.stdout
    # the printed ratio is the onnxruntime time over the PyTorch time, as
    # printed (to its 2 decimals)
    assert_ratio_of_printed_times(ratio[0], ort_line.groups(),
                                  torch_line.groups())
