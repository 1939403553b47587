"""Sample matcher on circumscribed boxes (paper Sec. 3.3, "Sample matcher")."""
from typing import Optional

from mmdet.models.task_modules.assigners import AssignResult, MaxIoUAssigner
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

from ..utils.circumscribed_boxes import window_circumscribed_boxes


@TASK_UTILS.register_module()
class CircumscribedBoxAssigner(MaxIoUAssigner):
    """Match the anchors of frame t of a clip against each object's
    circumscribed box over frames ``t-window .. t+window`` of the clip.

    ``window=1`` is the paper's previous/current/next-frame rule; ``window=0``
    matches each frame's own box (the "Circ. x" rows of Table 1c). Objects
    absent from a frame carry the box of their nearest present frame
    (``docs/reference_implementation.md#sample-matching``), so every object
    of the clip can be matched in every frame. Everything else is
    ``MaxIoUAssigner`` (positive IoU > ``pos_iou_thr``, negative <
    ``neg_iou_thr``).

    ``gt_instances`` must hold ``frame_bboxes`` (n, T, 4) and ``labels``
    (n,), and its metainfo ``frame_index`` (the frame t of these anchors).

    Args:
        window (int): half-width w of the temporal window (default 1).
        **kwargs: ``MaxIoUAssigner`` arguments.
    """

    def __init__(self, *args, window: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if window < 0:
            raise ValueError(f'window must be >= 0, got {window}')
        self.window = window

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None,
               **kwargs) -> AssignResult:
        if 'frame_index' not in gt_instances.metainfo:
            raise KeyError('CircumscribedBoxAssigner needs gt_instances '
                           'metainfo "frame_index"')
        t = gt_instances.metainfo['frame_index']
        boxes = window_circumscribed_boxes(gt_instances.frame_bboxes,
                                           self.window)[:, t]
        match_gts = InstanceData(bboxes=boxes, labels=gt_instances.labels)
        return super().assign(pred_instances, match_gts, gt_instances_ignore,
                              **kwargs)
