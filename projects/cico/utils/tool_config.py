"""Config loading shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from mmdet.utils import setup_cache_size_limit_of_dynamo


def load_tool_config(config: str,
                     cfg_options: Optional[dict] = None,
                     launcher: str = 'none',
                     work_dir: Optional[str] = None) -> Config:
    """The config with ``--cfg-options`` merged, the launcher set and the
    work dir chosen by priority: CLI > config > ``./work_dirs/<config>``."""
    setup_cache_size_limit_of_dynamo()  # fewer dynamo recompilations
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg
