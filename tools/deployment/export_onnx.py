"""Export CiCo's per-clip network (backbone + FPN + CPH + CMH, the config's
T) to ONNX; candidate selection, masks, NMS and the tracker stay in Python
(``projects.cico.apis.onnx_backend``).

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out model.onnx
        [--shape H W] [--dynamic] [--opset 17] [--trust-checkpoint]
        [--cfg-options k=v ...]

--shape is the network input (H, W) after the test pipeline's resize and
padding to a multiple of 32 (default: the config's test scale, padded).
--dynamic exports H and W as dynamic axes. The export is checked: the same
random clip through onnxruntime (when installed) and PyTorch, max difference
printed. Use the file with ``tools/demo/video_demo.py --backend onnxruntime
--onnx model.onnx`` or ``VideoInferencer(model, onnx_file=...)``.
"""
import argparse
import math
import os
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

import projects.cico.apis as cico_apis  # noqa: E402
from projects.cico.models.vis import ClipNetwork  # noqa: E402

PAD = 32  # the data preprocessor's pad_size_divisor


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Export the CiCo clip network '
                                'to ONNX')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='output .onnx file')
    p.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='network input size (default: the test scale, padded to 32)')
    p.add_argument(
        '--dynamic', action='store_true', help='dynamic H and W axes')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='the checkpoint is trusted (sets CICO_TRUST_CHECKPOINTS=1)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def test_scale_shape(cfg: Config) -> tuple:
    """(H, W) of the test pipeline's Resize scale, padded to 32."""
    for step in cfg.test_dataloader.dataset.pipeline:
        for t in step.get('transforms', [step]):
            if t.get('type') == 'Resize' and 'scale' in t:
                w, h = t['scale']
                return (math.ceil(h / PAD) * PAD, math.ceil(w / PAD) * PAD)
    raise SystemExit('the test pipeline has no Resize with a scale: pass '
                     '--shape H W')


def export(network: ClipNetwork, clip: torch.Tensor, out: str, dynamic: bool,
           opset: int) -> None:
    axes = None
    if dynamic:
        axes = {'clip': {2: 'height', 3: 'width'}}
        for name in network.output_names:  # head maps 4-D, protos 5-D
            h_axis, w_axis = (3, 4) if name == 'protos' else (2, 3)
            axes[name] = {h_axis: f'{name}_h', w_axis: f'{name}_w'}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.onnx.export(
        network, (clip, ),
        out,
        input_names=['clip'],
        output_names=network.output_names,
        dynamic_axes=axes,
        opset_version=opset,
        dynamo=False)  # the TorchScript exporter (no onnxscript needed)


def check(network: ClipNetwork, clip: torch.Tensor, out: str) -> None:
    """Max absolute difference onnxruntime vs PyTorch on ``clip``."""
    try:
        import onnxruntime as ort
    except ImportError:
        print('onnxruntime is not installed: the export was not checked '
              '(pip install -r requirements/deploy.txt)')
        return
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = sess.run(None, {'clip': clip.numpy()})
    with torch.no_grad():
        ref = network(clip)
    diff = max(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref))
    print(f'onnxruntime vs PyTorch on a random clip: max abs difference '
          f'{diff:.2e} over {len(got)} outputs')


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.trust_checkpoint:
        os.environ['CICO_TRUST_CHECKPOINTS'] = '1'
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = cico_apis.init_model(cfg, args.checkpoint, 'cpu')
    network = ClipNetwork(model).eval()
    h, w = args.shape or test_scale_shape(cfg)
    if h % PAD or w % PAD:
        raise SystemExit(f'--shape {h} {w}: both must be multiples of {PAD} '
                         '(the padded network input)')
    clip = torch.randn(model.clip_len, 3, h, w)
    start = time.perf_counter()
    export(network, clip, args.out, args.dynamic, args.opset)
    print(f'exported {args.out}: clip (T={model.clip_len}, 3, '
          f'{"H" if args.dynamic else h}, {"W" if args.dynamic else w}) -> '
          f'{len(network.output_names)} outputs in '
          f'{time.perf_counter() - start:.1f} s')
    check(network, clip, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
