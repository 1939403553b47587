"""One code style for every Python file: flake8 at 79 columns and the
yapf / isort settings of setup.cfg (run ``yapf -i -r`` and ``isort`` on a
file this test names)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ['projects', 'tools', 'tests', 'configs']


def python_files():
    out = subprocess.run([
        'git', 'ls-files', '--cached', '--others', '--exclude-standard', '--',
        *FOLDERS
    ],
                         cwd=ROOT,
                         capture_output=True,
                         text=True,
                         check=True)
    return [f for f in out.stdout.split() if f.endswith('.py')]


def run(*args):
    return subprocess.run([sys.executable, '-m', *args],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)


def test_flake8():
    res = run('flake8', *python_files())
    assert res.returncode == 0, res.stdout[-3000:]


def test_isort():
    res = run('isort', '--check-only', '--diff', *python_files())
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-1000:]


def test_yapf():
    res = run('yapf', '--diff', *python_files())
    assert res.returncode == 0 and not res.stdout, res.stdout[-3000:]
