"""``tools/test.py --fuse-conv-bn``: fold the batch norms into the convs
before testing (:func:`projects.cico.utils.fuse_conv_bn`)."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from ..utils.fuse_conv_bn import count_batch_norms, fuse_conv_bn


@HOOKS.register_module()
class FuseConvBNHook(Hook):
    """Fold BN into the preceding convs at ``before_test``: after the
    runner loaded the checkpoint, before the first test step. Test only:
    validation during training keeps the trainable model."""
    priority = 'VERY_HIGH'

    def before_test(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.eval()
        before = count_batch_norms(model)
        fuse_conv_bn(model)
        print_log(
            f'FuseConvBNHook: folded {before - count_batch_norms(model)} of '
            f'{before} batch norms into their convs',
            logger='current')
