"""``teardown_distributed``: a gloo rank ends with every log and stream
written and exit status 0, without running the interpreter's shutdown."""
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

RANK = textwrap.dedent('''
    import atexit, logging, sys
    import torch.distributed as dist
    from projects.cico.utils import teardown_distributed
    log = logging.getLogger('rank')
    log.addHandler(logging.FileHandler(sys.argv[1]))
    log.setLevel(logging.INFO)
    atexit.register(lambda: print('atexit ran', flush=True))
    dist.init_process_group(
        'gloo', init_method='file://' + sys.argv[2], rank=0, world_size=1)
    log.info('results written')
    print('before teardown')
    teardown_distributed()
    print('after teardown')
''')


def run_rank(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([
        sys.executable, '-c', RANK,
        str(tmp_path / 'rank.log'),
        str(tmp_path / 'store')
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          timeout=120)


def test_gloo_rank_exits_cleanly_after_teardown(tmp_path):
    proc = run_rank(tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the buffered stdout and the file log were flushed before the exit
    assert proc.stdout.splitlines() == ['before teardown']
    assert (tmp_path / 'rank.log').read_text() == 'results written\n'
    # the rank left inside teardown: no code after it, no atexit handlers


def test_teardown_without_a_process_group_returns():
    from projects.cico.utils import teardown_distributed
    teardown_distributed()  # single-process run: nothing to end, no exit
