"""``tools/test.py --channels-last``: the model's conv weights in
channels-last memory format before testing
(:func:`projects.cico.utils.memory_format.to_channels_last`)."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from ..utils.memory_format import to_channels_last


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the weights at ``before_test``, after the runner loaded the
    checkpoint, before the first test step."""
    priority = 'VERY_HIGH'

    def before_test(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        n = to_channels_last(model)
        print_log(
            f'ChannelsLastHook: {n} conv weights in channels-last format',
            logger='current')
