"Faults during training lose nothing: a failed checkpoint save leaves the previous one intact, and training resumes."
import json
import pytest, torch
from zrag.backbone import tiny_backbone
from zrag.data import Document
from zrag.write import WriteConfig, WriteTrainer, load_write_checkpoint

DOCS = [Document(f'D{i}', [t]) for i, t in enumerate(['alpha beta gamma', 'delta epsilon', 'zeta eta theta iota'])]


def _cfg(epochs, **kw):
    return WriteConfig(m_tokens=2, z_dim=8, proj_hidden=16, batch_size=2, epochs=epochs, lr_z=5e-2, lr_proj=1e-2, **kw)


def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    bb = tiny_backbone()
    WriteTrainer(bb, DOCS, _cfg(1), tmp_path).fit(progress=False)
    before = (tmp_path / 'checkpoint.pt').read_bytes()
    real_save = torch.save

    def disk_full(obj, f, *a, **k):
        with open(f, 'wb') as fh: fh.write(b'half a checkpoint')
        raise OSError('No space left on device')

    monkeypatch.setattr(torch, 'save', disk_full)
    with pytest.raises(OSError, match='No space left'):
        WriteTrainer(bb, DOCS, _cfg(2), tmp_path).fit(progress=False)
    assert (tmp_path / 'checkpoint.pt').read_bytes() == before          # the old checkpoint is intact
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]  # no temporary left
    assert [json.loads(l)['epoch'] for l in (tmp_path / 'train_log.jsonl').read_text().splitlines()] == [1]
    monkeypatch.setattr(torch, 'save', real_save)
    tr = WriteTrainer(bb, DOCS, _cfg(2), tmp_path)
    tr.fit(progress=False)                                              # resumes at epoch 2
    assert load_write_checkpoint(tmp_path / 'checkpoint.pt').state['epoch'] == 2
    fresh = WriteTrainer(bb, DOCS, _cfg(2), tmp_path / 'fresh'); fresh.fit(progress=False)
    assert torch.equal(tr.memory.z, fresh.memory.z)


def test_dropout_stays_on_across_sample_generations(tmp_path):
    "Eval-mode generations between epochs must not switch token dropout off (the seed system's bug)."
    tr = WriteTrainer(tiny_backbone(), DOCS, _cfg(5, token_dropout=0.5, sample_every=1), tmp_path)
    hist = tr.fit(progress=False)
    assert all('sample_doc0' in h for h in hist)
    assert all(0.3 < h['kept_token_share'] < 0.7 for h in hist), [h['kept_token_share'] for h in hist]


def test_corrupt_checkpoint_message(tmp_path):
    (tmp_path / 'checkpoint.pt').write_bytes(b'not a checkpoint')
    from zrag.core import ZragError
    with pytest.raises(ZragError, match='not a readable checkpoint'):
        load_write_checkpoint(tmp_path / 'checkpoint.pt')
