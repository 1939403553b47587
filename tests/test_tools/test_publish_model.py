"""tools/model_converters/publish_model.py: a training checkpoint in, a
weights-only file (sha256 prefix in its name) out, same predictions."""
import hashlib
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

from projects.cico.apis import VideoInferencer, init_model
from projects.cico.utils import trusted_checkpoint as tc
from tools.model_converters import publish_model

CLASSES = ('a', 'b', 'c', 'd', 'e', 'f')


@pytest.fixture(autouse=True)
def untrusted(monkeypatch):
    monkeypatch.setenv(tc.TRUST_ENV, '')  # restored (unset) afterwards
    monkeypatch.delenv(tc.TRUST_ENV)
    tc.untrust_directories()


@pytest.fixture(scope='module')
def setup(tmp_path_factory, synthvis_config_factory):
    """A tiny SynthVIS, its config, and a checkpoint as mmengine's runner
    writes it (numpy in meta, optimizer, message hub)."""
    tmp = tmp_path_factory.mktemp('publish')
    cfg, cfg_path, root = synthvis_config_factory(
        tmp, val_videos=1, frames=(4, 5))
    torch.manual_seed(0)
    model = init_model(cfg_path)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hub = MessageHub.get_instance('test_publish_model')
    hub.update_scalar('train/loss', np.float64(0.5))
    ckpt = str(tmp / 'iter_2.pth')
    torch.save(
        dict(
            meta=dict(
                dataset_meta=dict(classes=CLASSES, palette=[(1, 2, 3)]),
                cfg=cfg.pretty_text,
                epoch=np.int64(0),
                iter=np.int64(2),
                seed=np.int32(7),
                loss=np.array([0.5, 0.25])),
            state_dict=model.state_dict(),
            optimizer=optim.state_dict(),
            message_hub=hub.state_dict()), ckpt)
    video = osp.join(root, 'valid', 'JPEGImages', 'synth_valid_0001')
    return dict(cfg=cfg_path, ckpt=ckpt, video=video, tmp=tmp)


def published(setup, capsys) -> str:
    out = str(setup['tmp'] / 'out' / 'cico_synthvis.pth')
    assert publish_model.main([setup['ckpt'], out, '--trust-checkpoint']) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_untrusted_input_is_refused(setup, tmp_path, capsys):
    out = str(tmp_path / 'x.pth')
    assert publish_model.main([setup['ckpt'], out]) == 1
    err = capsys.readouterr().err
    assert setup['ckpt'] in err and '--trust-checkpoint' in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_published_file_is_weights_only_with_sha_name(setup, capsys):
    final = published(setup, capsys)
    match = re.fullmatch(r'(.*)/cico_synthvis-([0-9a-f]{8})\.pth', final)
    assert match and match.group(1) == str(setup['tmp'] / 'out')
    with open(final, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest()[:8] == match.group(2)
    ckpt = torch.load(final, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}  # no optimizer, no hub
    meta = ckpt['meta']
    assert meta['dataset_meta']['classes'] == CLASSES
    assert meta['cfg'].startswith(Config.fromfile(setup['cfg']).pretty_text)
    assert meta['iter'] == 2 and type(meta['iter']) is int
    assert meta['seed'] == 7 and meta['loss'] == [0.5, 0.25]
    original = torch.load(setup['ckpt'], weights_only=False)['state_dict']
    assert list(ckpt['state_dict']) == list(original)
    for key, value in original.items():
        assert torch.equal(ckpt['state_dict'][key], value)


def predictions(model, video):
    results = list(VideoInferencer(model).stream(video))
    return [(r.instances.scores, r.instances.labels, r.instances.masks)
            for r in results]


def test_published_gives_the_same_predictions(setup, capsys, monkeypatch):
    final = published(setup, capsys)
    with pytest.raises(tc.UntrustedCheckpointError, match='trust'):
        init_model(setup['cfg'], setup['ckpt'])  # the original: refused
    model = init_model(setup['cfg'], final)  # no opt-in needed
    assert model.dataset_meta['classes'] == CLASSES
    got = predictions(model, setup['video'])
    monkeypatch.setenv(tc.TRUST_ENV, '1')
    expected = predictions(
        init_model(setup['cfg'], setup['ckpt']), setup['video'])
    assert len(got) == len(expected) > 0
    assert sum(len(s) for s, _, _ in got) > 0
    for (s1, l1, m1), (s2, l2, m2) in zip(got, expected):
        assert torch.equal(s1, s2) and torch.equal(l1, l2)
        assert torch.equal(m1, m2)


def test_to_plain_rejects_objects():
    assert publish_model.to_plain(dict(a=(np.float32(0.5),
                                          None))) == dict(a=(0.5, None))
    with pytest.raises(TypeError, match=r'meta\.x is a object'):
        publish_model.to_plain(dict(x=object()))
