"""The SSD box coder without mmdet's clamp of the size deltas
(``docs/training_recipe.md#box-losses``)."""
import math

from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class UnclampedDeltaXYWHBBoxCoder(DeltaXYWHBBoxCoder):
    """``DeltaXYWHBBoxCoder`` whose decoding keeps the size deltas dw, dh
    as predicted: mmdet clamps them to +-|log(16 / 1000)| (about 4.14),
    the authors' decoder does not (a box may grow by exp(dw * std) without
    bound). Encoding is unchanged."""

    def decode(self, bboxes, pred_bboxes, max_shape=None, wh_ratio_clip=None):
        """mmdet's decoding with ``wh_ratio_clip`` ignored (no clamp)."""
        # delta2bbox clamps dw, dh to +-|log(wh_ratio_clip)|: inf disables it
        return super().decode(
            bboxes, pred_bboxes, max_shape, wh_ratio_clip=math.inf)
