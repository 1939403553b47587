"""Local checkpoints load with ``weights_only=True`` through mmengine; a
file that needs unpickling is refused unless the user opts in."""
import argparse
import os

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import CheckpointLoader

import projects.cico  # noqa: F401  (registers the loader)
from projects.cico.utils import tool_config
from projects.cico.utils import trusted_checkpoint as tc


class RunsCode:
    """Unpickling this calls ``exec``: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").close()', ))


@pytest.fixture(autouse=True)
def untrusted(monkeypatch):
    """No opt-in at the start and none left behind."""
    monkeypatch.setenv(tc.TRUST_ENV, '')  # restored (unset) afterwards
    monkeypatch.delenv(tc.TRUST_ENV)
    tc.untrust_directories()
    yield
    tc.untrust_directories()


def training_checkpoint(path):
    """What mmengine's runner writes: numpy in meta, a message hub."""
    hub = MessageHub.get_instance('test_trusted_checkpoint')
    hub.update_scalar('train/loss', 0.5)
    torch.save(
        dict(
            meta=dict(epoch=np.int64(0), iter=np.int64(2)),
            state_dict=dict(w=torch.ones(2)),
            message_hub=hub.state_dict()), str(path))
    return str(path)


def load(path):
    return CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def test_plain_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save(
        dict(
            state_dict=dict(w=torch.arange(3.)),
            meta=dict(dataset_meta=dict(classes=('a', 'b')), iter=2)),
        str(path))
    ckpt = load(path)
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))
    assert ckpt['meta']['dataset_meta']['classes'] == ('a', 'b')
    with pytest.raises(FileNotFoundError, match='can not be found'):
        load(tmp_path / 'missing.pth')


def test_code_in_a_checkpoint_never_runs_without_opt_in(tmp_path, monkeypatch):
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=RunsCode(marker)), str(path))
    with pytest.raises(tc.UntrustedCheckpointError) as err:
        load(path)
    msg = str(err.value)
    assert str(path) in msg and '(it holds exec)' in msg
    assert '--trust-checkpoint' in msg and 'CICO_TRUST_CHECKPOINTS=1' in msg
    assert 'publish_model.py' in msg
    assert not marker.exists()  # refused before anything ran
    # the explicit opt-in really unpickles (and so runs the code)
    monkeypatch.setenv(tc.TRUST_ENV, '1')
    load(path)
    assert marker.exists()


def test_training_checkpoint_needs_trust(tmp_path):
    path = training_checkpoint(tmp_path / 'iter_2.pth')
    with pytest.raises(tc.UntrustedCheckpointError, match='numpy'):
        load(path)
    tc.trust_directory(str(tmp_path))
    ckpt = load(path)
    assert ckpt['meta']['iter'] == 2
    assert 'train/loss' in ckpt['message_hub']['log_scalars']


def test_trusted_directory_is_the_resolved_folder_only(tmp_path):
    work, other = tmp_path / 'work', tmp_path / 'work_other'
    work.mkdir()
    other.mkdir()
    outside = training_checkpoint(other / 'iter_1.pth')
    link = work / 'link.pth'
    os.symlink(outside, str(link))
    tc.trust_directory(str(work))
    assert tc.is_trusted(str(work / 'iter_1.pth'))
    assert not tc.is_trusted(outside)  # same prefix, other folder
    with pytest.raises(tc.UntrustedCheckpointError):
        load(link)  # a link out of the trusted folder is not trusted


def test_trust_checkpoint_flag_sets_the_environment(monkeypatch):
    parser = argparse.ArgumentParser()
    tool_config.add_runner_args(parser, example='a=1')
    monkeypatch.setenv('LOCAL_RANK', '0')
    assert not tool_config.parse_tool_args(parser, []).trust_checkpoint
    assert not tc.trusts_all_checkpoints()
    args = tool_config.parse_tool_args(parser, ['--trust-checkpoint'])
    assert args.trust_checkpoint
    assert os.environ[tc.TRUST_ENV] == '1' and tc.trusts_all_checkpoints()
    monkeypatch.setenv(tc.TRUST_ENV, '0')
    assert not tc.trusts_all_checkpoints()
