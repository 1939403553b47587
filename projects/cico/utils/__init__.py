from .cpu_distributed import setup_cpu_distributed, teardown_distributed
from .tool_config import add_runner_args, load_tool_config, parse_tool_args
from .trusted_checkpoint import (TRUST_ENV, UntrustedCheckpointError,
                                 load_checkpoint_file, load_from_local,
                                 register_checkpoint_loader,
                                 trust_all_checkpoints, trust_directory)

__all__ = [
    'TRUST_ENV', 'UntrustedCheckpointError', 'load_checkpoint_file',
    'load_from_local', 'register_checkpoint_loader', 'trust_all_checkpoints',
    'trust_directory', 'setup_cpu_distributed', 'teardown_distributed',
    'load_tool_config', 'add_runner_args', 'parse_tool_args'
]
