"""The seed's 4-bit backbone (bitsandbytes NF4, double quantisation) on the CPU, real bundled model: write, A1, the
evidence LoRA on the 4-bit base (QLoRA) and the read stage on smoke parameters; a checkpoint refuses another
quantisation."""
import json
from pathlib import Path
import numpy as np
import pytest, torch
from zrag.backbone import NF4
from zrag.stages import stage_dir
from zrag.probes import PHASE1_DIRS
from conftest import zrag_cli, read_manifest

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def q4_run(tmp_path_factory):
    rd = tmp_path_factory.mktemp('q4')
    r = zrag_cli('run', '-f', 'params/smoke.yaml', '-p', 'runs_dir', rd, '-p', 'n_docs', '10', '-p', 'load_in_4bit',
                 'true', '-p', 'stages', '[write, analyze, evidence, read]', '-q')
    assert r.returncode == 0, r.stderr[-3000:]
    return rd / 'smoke'


def test_4bit_write_and_a1(q4_run):
    ck = torch.load(stage_dir(q4_run, 'write') / 'checkpoint.pt', weights_only=False)
    assert ck['backbone']['quantization'] == NF4
    assert all(np.isfinite(h['loss']) for h in ck['history'])
    nll = np.load(stage_dir(q4_run, 'analyze') / PHASE1_DIRS['A1'] / 'nll_matrix.npy')
    assert nll.shape == (10, 10) and np.isfinite(nll).all()
    man = read_manifest(q4_run)
    assert man['params']['load_in_4bit'] is True and 'bitsandbytes' in man['versions']


def test_qlora_evidence_and_read(q4_run):
    from safetensors.torch import load_file
    for stage in ('evidence', 'read'):
        ad = load_file(str(stage_dir(q4_run, stage) / 'adapter_best' / 'adapter_model.safetensors'))
        assert ad and all(torch.isfinite(v).all() for v in ad.values()), stage
    ev = json.loads((stage_dir(q4_run, 'evidence') / 'evidence_metrics.json').read_text())
    assert ev['memory_frozen']['unchanged'] and np.isfinite(ev['history'][-1]['val_loss'])
    rd = json.loads((stage_dir(q4_run, 'read') / 'read_metrics.json').read_text())
    assert np.isfinite(rd['rougeL']['mean'])


def test_checkpoint_refuses_another_quantisation(q4_run, cli):
    r = cli('analyze', '-f', 'params/smoke.yaml', '-p', 'runs_dir', Path(q4_run).parent, '-p', 'n_docs', '10', '-q')
    assert r.returncode == 2
    assert f"with quantisation {NF4}, but the loaded backbone has none" in r.stderr
    assert '-p load_in_4bit true' in r.stderr
