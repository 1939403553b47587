"""tools/gpu_check.sh, as far as a CPU machine can check it: it refuses to
run without CUDA, and the export it runs asks for a shape the exporter
takes (a 360x640 frame is padded to 384x640)."""
import os
import re
import subprocess
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / 'tools' / 'gpu_check.sh'


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='CUDA is here: the check would run')
def test_refuses_without_cuda(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run(
        ['bash', str(SCRIPT), str(tmp_path / 'gpu')],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert 'no CUDA device: nothing was run' in proc.stderr
    assert (tmp_path / 'gpu' / 'summary.txt').read_text() == ''


def test_export_shape_is_padded():
    from importlib.util import module_from_spec, spec_from_file_location
    spec = spec_from_file_location(
        'export_onnx', REPO_ROOT / 'tools' / 'deployment' / 'export_onnx.py')
    export = module_from_spec(spec)
    spec.loader.exec_module(export)
    shapes = re.findall(r'--shape (\d+) (\d+)', SCRIPT.read_text())
    assert shapes == [('384', '640')]
    assert all(int(s) % export.PAD == 0 for s in shapes[0])
