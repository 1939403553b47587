"""Inflate a frame-level checkpoint into a CiCo model, untrained, and save it.

    python tools/model_converters/inflate_checkpoint.py CONFIG SRC OUT \
        [--cfg-options k=v ...]

Builds CONFIG's model and initialises it from SRC as VIS training would
(``InflatedPretrained``: the config's own inflation options are kept, its
checkpoint is replaced by SRC; the backbone comes from SRC too, so no
ImageNet weights are fetched), prints the inflation report and writes OUT
(``state_dict`` and ``meta``, loadable with ``weights_only=True``). OUT is
the model at iteration 0 of VIS training: ``tools/test.py CONFIG OUT``
measures what inflation alone gives, before any clip-level training
(the rules: docs/reference_implementation.md#initialisation).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from projects.cico.utils import trusted_checkpoint as tc  # noqa: E402
from tools.model_converters.publish_model import \
    save_weights_only  # noqa: E402


def inflate(config: Config, src: str, out: str) -> str:
    """Build ``config``'s model, inflate ``src`` into it, write ``out``;
    returns ``out``."""
    from mmdet.registry import MODELS

    import projects.cico  # noqa: F401 (registers the models)
    init_cfg = dict(config.model.get('init_cfg') or {})
    if init_cfg.get('type') != 'InflatedPretrained':
        init_cfg = dict(type='InflatedPretrained')
    init_cfg.update(checkpoint=src, skip_missing=False)
    config.model.init_cfg = init_cfg
    if config.model.get('backbone', {}).get('init_cfg'):
        config.model.backbone.init_cfg = None  # SRC holds the backbone
    init_default_scope(config.get('default_scope', 'mmdet'))
    model = MODELS.build(config.model)
    model.init_weights()
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_weights_only(
        dict(
            state_dict=state_dict,
            meta=dict(inflated_from=src, config=config.pretty_text)), out)
    return out


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Inflate a frame-level checkpoint into a CiCo model '
        '(iteration 0 of VIS training) and save it')
    parser.add_argument('config', help='the CiCo (or FiFo) config')
    parser.add_argument('src', help='frame-level checkpoint to inflate')
    parser.add_argument('out', help='output checkpoint (.pth)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    config = Config.fromfile(args.config)
    if args.cfg_options:
        config.merge_from_dict(args.cfg_options)
    try:
        out = inflate(config, args.src, args.out)
    except (FileNotFoundError, tc.UntrustedCheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
