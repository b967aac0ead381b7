"""Multi-process runs (torchrun, gloo, 2 CPU processes) against one process on the real bundled model: the write
checkpoint, the A1 matrix and the evidence adapter are the same, and a run killed on one rank resumes."""
import os, sys, json, time, signal, subprocess
from pathlib import Path
import numpy as np
import pytest, torch
from conftest import ROOT, zrag_cli
from zrag.stages import stage_dir
from zrag.probes import PHASE1_DIRS

pytestmark = pytest.mark.integration

# 10 bundled documents (3 steps of 4 per epoch: a rank may hold 1 or 3 documents of a batch), token dropout on, the
# evidence adapter without LoRA dropout (its masks are drawn per process; everything else is drawn per batch)
ARGS = ('-f', 'params/smoke.yaml', '-p', 'n_docs', '10', '-p', 'token_dropout', '0.3', '-p', 'lora_dropout', '0.0',
        '-q')


def torchrun(*args, nproc=2, timeout=600, wait=True):
    "`torchrun --nproc_per_node nproc zrag args` (gloo on the CPU, 1 thread per process); the Popen when not `wait`."
    exe = Path(sys.executable).parent
    cmd = [str(exe / 'torchrun'), '--nproc_per_node', str(nproc), '--standalone', str(exe / 'zrag'),
           *map(str, args)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    if not wait: return p
    try: out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); out, err = p.communicate()
        raise AssertionError(f"torchrun zrag {' '.join(map(str, args))} ran over {timeout} s:\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def checkpoint(runs_dir):
    return torch.load(stage_dir(Path(runs_dir) / 'smoke', 'write') / 'checkpoint.pt', weights_only=False)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "The same write, analyze and evidence stages in one process and in two: {1: runs_dir, 2: runs_dir}."
    out = {}
    for n in (1, 2):
        rd = tmp_path_factory.mktemp(f'proc{n}')
        stages = ('-p', 'runs_dir', rd, '-p', 'stages', '[write, analyze, evidence]')
        # one thread in each process, as under torchrun: MKL's products depend on the thread count on some CPUs
        # (a CI machine, 2026-12-06; here with MKL_ENABLE_INSTRUCTIONS=AVX2)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv('OMP_NUM_THREADS', '1')
            r = zrag_cli('run', *ARGS, *stages) if n == 1 else torchrun('run', *ARGS, *stages)
        assert r.returncode == 0, r.stderr[-3000:]
        out[n] = rd
    return out


def test_write_checkpoint_equals_one_process(runs):
    a, b = checkpoint(runs[1]), checkpoint(runs[2])
    for k in a['memory']:                                   # z, the projection's weights, alpha
        assert torch.allclose(a['memory'][k], b['memory'][k], atol=1e-5, rtol=0), k
    assert [h['loss'] for h in a['history']] == pytest.approx([h['loss'] for h in b['history']], abs=1e-6)
    assert [h['kept_token_share'] for h in a['history']] == [h['kept_token_share'] for h in b['history']]
    assert b['optimizer']['state'][0]['exp_avg'].shape == b['memory']['z'].shape   # z's moments gathered in full


def test_a1_matrix_identical(runs):
    a1 = lambda rd: np.load(stage_dir(Path(rd) / 'smoke', 'analyze') / PHASE1_DIRS['A1'] / 'nll_matrix.npy')
    np.testing.assert_array_equal(a1(runs[1]), a1(runs[2]))
    left = list((stage_dir(Path(runs[2]) / 'smoke', 'analyze') / PHASE1_DIRS['A1']).glob('*.partial*'))
    assert not left, left                                   # every rank's partial file removed


def test_evidence_adapter_equals_one_process(runs):
    from safetensors.torch import load_file
    ad = lambda rd: load_file(str(stage_dir(Path(rd) / 'smoke', 'evidence') / 'adapter_best' /
                                  'adapter_model.safetensors'))
    a, b = ad(runs[1]), ad(runs[2])
    assert set(a) == set(b)
    # the adapter's gradient is summed from two halves of each batch: its last bit differs, and AdamW's first steps
    # (update ~ lr * sign) turn that into up to 4.4e-5 on weights of up to 0.04 (measured 2026-11-23)
    for k in a: assert torch.allclose(a[k], b[k], atol=1e-4, rtol=0), (k, (a[k] - b[k]).abs().max())
    metrics = lambda rd: json.loads((stage_dir(Path(rd) / 'smoke', 'evidence') / 'evidence_metrics.json').read_text())
    assert (stage_dir(Path(runs[2]) / 'smoke', 'evidence') / 'evidence_report.html').is_file()
    la, lb = metrics(runs[1])['history'], metrics(runs[2])['history']
    assert [h['train_loss'] for h in la] == pytest.approx([h['train_loss'] for h in lb], abs=1e-5)


def _rank_pid(launcher, rank):
    "The pid of the worker process of `rank` under the torchrun `launcher`, read from /proc."
    for p in Path('/proc').iterdir():
        if not p.name.isdigit(): continue
        try: env, ppid = (p / 'environ').read_bytes().split(b'\0'), int((p / 'stat').read_text().split()[3])
        except (OSError, ValueError): continue
        if ppid == launcher and f'RANK={rank}'.encode() in env: return int(p.name)
    return None


@pytest.mark.slow
def test_killed_rank_resumes_to_the_same_checkpoint(tmp_path):
    "Rank 1 killed after the first epoch's checkpoint; the same command again ends where one process ends."
    args = ('write', *ARGS, '-p', 'runs_dir', tmp_path, '-p', 'epochs', '4')
    ref = tmp_path / 'ref'
    r = zrag_cli('write', *ARGS, '-p', 'runs_dir', ref, '-p', 'epochs', '4')
    assert r.returncode == 0, r.stderr[-3000:]
    p = torchrun(*args, wait=False)
    log = stage_dir(tmp_path / 'smoke', 'write') / 'train_log.jsonl'
    t0 = time.time()
    while not (log.is_file() and log.read_text().strip()) and time.time() - t0 < 300 and p.poll() is None:
        time.sleep(0.2)
    pid = _rank_pid(p.pid, 1)
    assert pid is not None, 'rank 1 not found'
    os.kill(pid, signal.SIGKILL)
    p.communicate(timeout=300)
    assert p.returncode != 0
    assert checkpoint(tmp_path)['epoch'] < 4               # killed before the end
    r = torchrun(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = checkpoint(ref), checkpoint(tmp_path)
    assert b['epoch'] == 4
    for k in a['memory']: assert torch.allclose(a['memory'][k], b['memory'][k], atol=1e-5, rtol=0), k
    assert [h['loss'] for h in a['history']] == pytest.approx([h['loss'] for h in b['history']], abs=1e-6)
