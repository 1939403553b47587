"""Draw streamed test results: ``tools/test.py --show-dir DIR``."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmdet.registry import HOOKS
from mmengine.fileio import get
from mmengine.hooks import Hook

from .draw import draw_track_instances


@HOOKS.register_module()
class ClipVisualizationHook(Hook):
    """Write every emitted frame with its tracked instances drawn to
    ``<test_out_dir>/<video>/<frame file name>`` (the video name is the
    frame's folder). mmdet's ``TrackVisualizationHook`` draws the
    ground truth of frame 0 of each step only, needs seaborn and names
    folders ``JPEGImages`` in the official layout, hence this hook.

    Args:
        draw (bool): off by default; ``tools/test.py --show-dir`` turns it on.
        test_out_dir (str, optional): output folder (absolute, or relative to
            the runner's work_dir/timestamp).
        score_thr (float): instances below this score are not drawn.
        interval (int): draw every ``interval``-th emitted frame.
        backend_args (dict, optional): file backend to read frames.
    """
    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 test_out_dir: Optional[str] = None,
                 score_thr: float = 0.3,
                 interval: int = 1,
                 backend_args: Optional[dict] = None) -> None:
        self.draw = draw
        self.test_out_dir = test_out_dir
        self.score_thr = score_thr
        self.interval = max(1, interval)
        self.backend_args = backend_args
        self._count = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        if not self.draw or self.test_out_dir is None:
            return
        out_root = self.test_out_dir if osp.isabs(self.test_out_dir) else \
            osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
        classes = runner.test_evaluator.dataset_meta.get('classes', ()) \
            if runner.test_evaluator.dataset_meta else ()
        for track_sample in outputs:
            for frame in track_sample:
                meta = frame.metainfo
                if not meta.get('is_output_frame', True):
                    continue
                self._count += 1
                if (self._count - 1) % self.interval:
                    continue
                img = mmcv.imfrombytes(
                    get(meta['img_path'], backend_args=self.backend_args))
                drawn = draw_track_instances(img, frame.pred_track_instances,
                                             classes, self.score_thr)
                video = osp.basename(osp.dirname(meta['img_path']))
                out_dir = osp.join(out_root, video)
                os.makedirs(out_dir, exist_ok=True)
                mmcv.imwrite(drawn,
                             osp.join(out_dir, osp.basename(meta['img_path'])))
