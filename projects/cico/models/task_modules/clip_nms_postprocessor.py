"""The project's per-clip post-processing, a registered post-processor
(``test_cfg.postprocess=dict(type='ClipNMSPostProcessor')``, the default).

The candidates of one clip are segmented by the mask head, ranked by
``quality x score`` (``test_cfg.rescore_with_quality``), deduplicated by
the clip-level Fast NMS (``test_cfg.nms``, :func:`..clip_nms.clip_fast_nms`)
and kept when their mask has more than ``test_cfg.min_mask_area`` pixels in
some real (not padding) frame (``docs/departures.md#post-processing``).
The authors' steps are the other registered post-processor,
:class:`..reference_postprocess.ReferencePostProcessor`.
"""
from typing import Callable, List

import torch
from mmdet.registry import TASK_UTILS
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData

from .clip_nms import clip_fast_nms

# adds ``mask_probs`` and ``masks`` (k, T, h, w) to detections
Segment = Callable[[InstanceData], InstanceData]


@TASK_UTILS.register_module()
class ClipNMSPostProcessor:
    """Candidates of one clip -> its detections, the project's way.

    Its settings are read from the detector's ``test_cfg`` at every call
    (``rescore_with_quality`` (True), ``nms``, ``min_mask_area`` (5)), so a
    change of ``model.test_cfg`` takes effect at once.
    """

    def __call__(self, dets: InstanceData, segment: Segment, metas: List[dict],
                 test_cfg: ConfigType) -> InstanceData:
        """
        Args:
            dets (InstanceData): candidates (``scores``, ``labels``,
                ``quality``, ``frame_bboxes``, ``bboxes``, ``params``).
            segment (callable): the mask head's clip masks.
            metas (list[dict]): the clip's frame metainfos
                (``is_pad_frame``).
            test_cfg (dict): the detector's.

        Returns:
            InstanceData: the kept detections with ``mask_probs`` and
            ``masks``, ordered by rank score.
        """
        dets = segment(dets)
        if test_cfg.get('rescore_with_quality', True):
            dets.rank_scores = dets.scores * dets.quality
        dets = clip_fast_nms(dets, test_cfg.get('nms', {}))
        real = torch.as_tensor(
            [not m.get('is_pad_frame', False) for m in metas],
            device=dets.masks.device)
        area = dets.masks[:, real].flatten(2).sum(-1)  # (k, T_real)
        keep = (area > test_cfg.get('min_mask_area', 5)).any(1) \
            if len(dets) else area.new_zeros(0, dtype=torch.bool)
        return dets[keep]
