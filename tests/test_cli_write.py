"`zrag write` end to end on the real bundled model: run folder, resume after interrupt, mismatch errors."
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from zrag.stages import stage_dir
from conftest import ROOT, smoke_args as _base, run_manifest, read_manifest

pytestmark = pytest.mark.integration


def test_write_smoke_run_folder(smoke_copy, cli):
    rd = smoke_copy / 'smoke'
    wd = stage_dir(rd, 'write')
    for f in [rd / 'corpus.json', rd / 'corpus_manifest.json', wd / 'checkpoint.pt', wd / 'train_log.jsonl',
              wd / 'summary.md', run_manifest(rd)]:
        assert f.is_file(), f
    man = read_manifest(rd)
    assert man['status'] == 'ok' and man['stages']['write']['status'] == 'ok'
    assert man['params']['n_docs'] == 4 and man['param_sources']['runs_dir'] == '-p runs_dir'
    assert 'torch' in man['versions'] and man['machine']['cpu_count']
    assert not list(rd.rglob('*.tmp'))
    # a second call with more epochs resumes: the log continues, nothing is retrained
    r = cli(*_base(smoke_copy, '-p', 'epochs', '3'))
    assert r.returncode == 0, r.stderr
    log = [json.loads(l) for l in (wd / 'train_log.jsonl').read_text().splitlines()]
    assert [x['epoch'] for x in log] == [1, 2, 3]


def test_checkpoint_from_another_corpus(smoke_copy, cli):
    r = cli(*_base(smoke_copy, '-p', 'n_docs', '6'))
    assert r.returncode == 2
    assert 'was trained on another corpus' in r.stderr and 'not in the checkpoint:' in r.stderr


def test_checkpoint_from_another_backbone(smoke_copy, tmp_path, cli):
    from zrag.backbone import tiny_backbone
    tiny = tiny_backbone()
    tiny.model.save_pretrained(tmp_path / 'tiny'); tiny.tokenizer.save_pretrained(tmp_path / 'tiny')
    r = cli(*_base(smoke_copy, '-p', 'backbone', tmp_path / 'tiny'))
    assert r.returncode == 2
    assert "was trained on backbone 'smollm2-135m'" in r.stderr and 'different model' in r.stderr


def test_changed_training_params_refuse_to_resume(smoke_copy, cli):
    r = cli(*_base(smoke_copy, '-p', 'lr_z', '0.5'))
    assert r.returncode == 2 and 'was trained with other parameters (lr_z)' in r.stderr


def test_interrupt_then_resume_matches_uninterrupted(tmp_path):
    "Kill a real training process mid-run; the resumed run ends exactly where an uninterrupted one ends."
    exe = Path(sys.executable).parent / 'zrag'
    args = ['write', '-f', 'params/smoke.yaml', '-q', '-p', 'epochs', '10', '-p', 'batch_size', '2']
    full = subprocess.run([exe, *args, '-p', 'runs_dir', tmp_path / 'a'], cwd=ROOT, capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    ck = stage_dir(tmp_path / 'b' / 'smoke', 'write') / 'checkpoint.pt'
    # A job started in the background by a shell inherits SIGINT as ignored, and Python then never raises
    # KeyboardInterrupt: give the child the default disposition, as a terminal's Ctrl-C would find it.
    p = subprocess.Popen([exe, *args, '-p', 'runs_dir', tmp_path / 'b'], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    t0 = time.time()
    while time.time() - t0 < 300 and p.poll() is None:
        if ck.exists() and torch.load(ck, weights_only=False)['epoch'] >= 2: break
        time.sleep(0.2)
    p.send_signal(signal.SIGINT); _, err = p.communicate(timeout=120)
    cut = torch.load(ck, weights_only=False)
    assert cut['epoch'] < 10, 'the run finished before it could be interrupted'
    assert p.returncode == 130 and b'run the same command again to resume' in err
    again = subprocess.run([exe, *args, '-p', 'runs_dir', tmp_path / 'b'], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    a = torch.load(stage_dir(tmp_path / 'a' / 'smoke', 'write') / 'checkpoint.pt', weights_only=False)
    b = torch.load(ck, weights_only=False)
    assert torch.equal(a['memory']['z'], b['memory']['z'])
    assert [h['loss'] for h in a['history']] == [h['loss'] for h in b['history']]
