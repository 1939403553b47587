"""Distributed runs on machines without CUDA (one place for the tools).

``tools/dist_train.sh`` / ``dist_test.sh`` on a CPU-only machine: mmengine
0.10 would call ``torch.cuda.set_device`` in ``init_dist`` and give DDP
``device_ids=[LOCAL_RANK]``; both fail without CUDA. This switches the
backend to gloo, starts the process group itself and builds DDP without
device ids. With CUDA it does nothing.
"""
import datetime
import logging
import os
import sys

import torch
from mmengine.config import Config, ConfigDict


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make the distributed run work without CUDA: gloo backend, the process
    group started here (mmengine's ``init_dist`` calls
    ``torch.cuda.set_device``) and DDP without ``device_ids`` (mmengine
    passes ``[LOCAL_RANK]``, which DDP rejects for CPU modules)."""
    if torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend') != 'gloo':
        print(f'[cico] CUDA is not available: distributed backend '
              f'{dist_cfg.get("backend")!r} -> \'gloo\'')
        dist_cfg['backend'] = 'gloo'
    if launcher == 'none':
        return
    if launcher != 'pytorch':
        sys.exit(f'--launcher {launcher} needs CUDA (mmengine selects a GPU '
                 'per process); on a CPU machine use --launcher pytorch, '
                 'i.e. torchrun (tools/dist_train.sh, tools/dist_test.sh)')
    import torch.distributed as torch_dist
    if not torch_dist.is_initialized():
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if kwargs.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        # rank, world size and master from the torchrun environment
        torch_dist.init_process_group(backend='gloo', **kwargs)
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        cfg.model_wrapper_cfg = ConfigDict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        from mmengine.registry import MODEL_WRAPPERS
        from torch.nn.parallel import DistributedDataParallel
        wrapper_type = wrapper.get('type', 'MMDistributedDataParallel')
        if isinstance(wrapper_type, str):
            wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
        if isinstance(wrapper_type, type) and issubclass(
                wrapper_type, DistributedDataParallel):
            wrapper.setdefault('device_ids', None)


def teardown_distributed() -> None:
    """End a distributed run cleanly: all ranks meet, then the process group
    is destroyed. Without it a rank can exit while the others' gloo threads
    still talk to it, and they abort ("terminate called without an active
    exception") after the work is done.

    A gloo rank then leaves at once (``os._exit(0)``, after flushing the
    logs and the standard streams): even after the group is destroyed,
    gloo's transport threads could still be joinable when the interpreter
    runs the C++ static destructors, which aborts the rank now and then
    under load, after every result was written. Nothing is left to do at
    that point, so skipping the interpreter's own shutdown loses nothing.
    """
    import torch.distributed as torch_dist
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    gloo = torch_dist.get_backend() == 'gloo'
    torch_dist.barrier()
    torch_dist.destroy_process_group()
    if gloo:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
