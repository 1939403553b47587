from .cpu_distributed import setup_cpu_distributed, teardown_distributed
from .tool_config import add_runner_args, load_tool_config, parse_tool_args
from .trusted_checkpoint import (load_from_local_trusted,
                                 register_trusted_local_loader)

__all__ = [
    'load_from_local_trusted', 'register_trusted_local_loader',
    'setup_cpu_distributed', 'teardown_distributed', 'load_tool_config',
    'add_runner_args', 'parse_tool_args'
]
