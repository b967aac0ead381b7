"""One writer per run folder, and runs that say when they were interrupted: through the console script, on the real
bundled model (the smoke write of 4 documents)."""
import json, os, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest
from zrag.cli import main
from zrag.lock import lock_path, read_lock
from zrag.stages import stage_dir
from conftest import ROOT, smoke_args, zrag_cli, read_manifest

pytestmark = pytest.mark.integration


def start(*args):
    "Start the `zrag` console script in its own process group; return the Popen."
    exe = Path(sys.executable).parent / 'zrag'
    return subprocess.Popen([str(exe), *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for(cond, timeout=300):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, 'timed out'
        time.sleep(0.05)


def log_lines(run):
    p = stage_dir(run, 'write') / 'train_log.jsonl'
    return p.read_text().splitlines() if p.is_file() else []


def test_a_second_writer_is_refused_and_the_first_run_is_unchanged(tmp_path, smoke_written):
    "The second of two writers on one folder is refused, naming the first; the first ends as an uninterrupted run."
    a = start(*smoke_args(tmp_path))
    wait_for(lambda: read_lock(tmp_path / 'smoke'))
    os.kill(a.pid, signal.SIGSTOP)                  # the holder stays alive while the second command tries
    try: b = zrag_cli(*smoke_args(tmp_path))
    finally: os.kill(a.pid, signal.SIGCONT)
    assert a.wait(timeout=600) == 0, a.stderr.read()[-3000:]
    assert b.returncode == 2 and f'is in use by process {a.pid}' in b.stderr and 'zrag write' in b.stderr
    assert [json.loads(x)['loss'] for x in log_lines(tmp_path / 'smoke')] == \
           [json.loads(x)['loss'] for x in log_lines(smoke_written)]
    assert read_lock(tmp_path / 'smoke') is None
    assert [h['status'] for h in read_manifest(tmp_path / 'smoke')['history']] == ['ok']


def test_sigterm_is_recorded_as_interrupted(tmp_path, capsys):
    "SIGTERM ends the command with 143; the manifest says interrupted and when; the lock is given back."
    p = start(*smoke_args(tmp_path, '-p', 'epochs', '200'))
    wait_for(lambda: log_lines(tmp_path / 'smoke'))
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=300) == 143 and 'interrupted' in p.stderr.read()
    man = read_manifest(tmp_path / 'smoke')
    assert man['status'] == 'interrupted' and man['ended'] and man['stages']['write']['status'] == 'interrupted'
    assert read_lock(tmp_path / 'smoke') is None
    assert main(['runs', '-p', 'runs_dir', str(tmp_path)]) == 0
    assert capsys.readouterr().out.split()[:2] == ['smoke', 'interrupted']


def test_a_killed_run_is_listed_as_interrupted_and_its_lock_taken_over(tmp_path, capsys):
    "SIGKILL leaves no status: `zrag runs` reads the dead lock as interrupted, and the next command takes it over."
    p = start(*smoke_args(tmp_path, '-p', 'epochs', '200'))
    wait_for(lambda: log_lines(tmp_path / 'smoke'))
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=60)
    assert read_manifest(tmp_path / 'smoke').get('status') is None and read_lock(tmp_path / 'smoke')['pid'] == p.pid
    assert main(['runs', '-p', 'runs_dir', str(tmp_path)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.split()[:2] == ['smoke', 'interrupted'] and '(resume: zrag write' in line
    r = zrag_cli(*smoke_args(tmp_path))
    assert r.returncode == 0 and f'locked by process {p.pid}' in r.stderr and 'Taking the lock over' in r.stderr
    assert read_lock(tmp_path / 'smoke') is None and read_manifest(tmp_path / 'smoke')['status'] == 'ok'


@pytest.mark.parametrize('cmd', ['write', 'evidence'])
def test_a_folder_in_use_is_refused_before_anything_is_written(cmd, tmp_path, capsys):
    "A live holder (here this very process) refuses every writing command, with one line; the folder stays as it was."
    run = tmp_path / 'smoke'
    lock_path(run).parent.mkdir(parents=True)
    lock_path(run).write_text(json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                                          'command': 'zrag run -f params/demo.yaml', 'started': 'then'}))
    before = sorted(p.name for p in run.rglob('*'))
    assert main([str(a) for a in smoke_args(tmp_path, cmd=cmd)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'is in use by process {os.getpid()}' in err[0] and 'Traceback' not in err[0]
    assert sorted(p.name for p in run.rglob('*')) == before


def test_a_non_finite_loss_stops_the_write_and_keeps_the_last_checkpoint(tmp_path):
    """The stop-on-NaN guard end to end: the console script's `main` with a fault injected into the write loss at the
    second epoch exits 2 with one line naming the epoch and step; the checkpoint of epoch 1 stays."""
    argv = [str(a) for a in smoke_args(tmp_path, '-p', 'epochs', '3')]
    code = ("import sys, zrag.write as w\n"
            "orig, calls = w.doc_nll, [0]\n"
            "def faulty(*a, **k):\n"
            "    calls[0] += 1\n"
            "    out = orig(*a, **k)\n"
            "    return out * float('nan') if calls[0] == 2 else out   # smoke: one step per epoch\n"
            "w.doc_nll = faulty\n"
            "from zrag.cli import main\n"
            f"sys.exit(main({argv!r}))\n")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors = [l for l in r.stderr.splitlines() if l.startswith('zrag: error')]
    assert r.returncode == 2 and len(errors) == 1 and 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert 'the write loss became nan in epoch 2, step 1 (the checkpoint of epoch 1 is kept)' in errors[0]
    import torch
    ck = torch.load(stage_dir(tmp_path / 'smoke', 'write') / 'checkpoint.pt', weights_only=False)
    assert ck['epoch'] == 1 and not ck['done'] and len(log_lines(tmp_path / 'smoke')) == 1
    man = read_manifest(tmp_path / 'smoke')
    assert man['status'] == 'failed' and 'epoch 2, step 1' in man['stages']['write']['status']
    assert read_lock(tmp_path / 'smoke') is None
