"Shared fixtures: the real bundled backbone (loaded once), the HotpotQA samples (skipped when absent), CLI runner."
import os, sys, json, shutil, subprocess
from pathlib import Path
import pytest
from zrag.core import read_jsonl
from zrag.stages import META_DIR, stage_dir

ROOT = Path(__file__).resolve().parents[1]
HOTPOT = Path(os.environ.get('ZRAG_HOTPOTQA_DIR', ROOT.parent / 'shared' / 'data' / 'hotpotqa'))

# The documented layout of a run folder (01_stages): the one place in the tests that spells its folder names.
# `test_house` checks the registry against it; every other test asks the registry (`stage_dir`, `META_DIR`).
LAYOUT = {'meta': '00_meta', 'write': '01_write', 'analyze': '02_analyze', 'evidence': '03_evidence',
          'route': '04_route', 'read': '05_read', 'compare': '06_compare'}
OLD_READ = '06_read'        # the read stage's folder before the route stage: a run folder holding it is refused


def run_manifest(run_dir):
    "The path of the run manifest of `run_dir`, in the registry's meta folder."
    return Path(run_dir) / META_DIR / 'run_manifest.json'


def read_manifest(run_dir):
    "The run manifest of `run_dir`, parsed."
    return json.loads(run_manifest(run_dir).read_text())


@pytest.fixture(scope='session')
def smollm():
    "The real bundled SmolLM2-135M, frozen (converted once into the cache)."
    from zrag.backbone import load_backbone, BackboneConfig
    return load_backbone(BackboneConfig())


@pytest.fixture(scope='session')
def hotpot_dir():
    if not (HOTPOT / 'dev_distractor_300.jsonl').is_file():
        pytest.skip(f'HotpotQA samples not found at {HOTPOT} (set ZRAG_HOTPOTQA_DIR)')
    return HOTPOT


def zrag_cli(*args, cwd=ROOT, timeout=600):
    ("Run the installed `zrag` console script; return the CompletedProcess. "
     "On timeout the whole process group is killed.")
    import signal
    exe = Path(sys.executable).parent / 'zrag'
    # its own group: a papermill kernel it started dies with it
    p = subprocess.Popen([str(exe), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try: out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); out, err = p.communicate()
        raise AssertionError(f"zrag {' '.join(map(str, args))} ran over {timeout} s; its last output:\n"
                             f"{(out or '')[-2000:]}\n{(err or '')[-3000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def pytest_report_header(config):
    "What the machine grants: CI logs then show why a run is slow."
    import torch
    from zrag.backbone import available_cpus
    try: quota = open('/sys/fs/cgroup/cpu.max').read().strip()
    except OSError: quota = 'n/a'
    try: mem = next(l for l in open('/proc/meminfo') if l.startswith('MemAvailable')).split()[1]
    except (OSError, StopIteration): mem = '?'
    return (f"zrag: cpu_count {os.cpu_count()}, available_cpus {available_cpus()}, cgroup cpu.max {quota}, "
            f"torch threads {torch.get_num_threads()}, MemAvailable {int(mem) // 1024 if mem != '?' else '?'} MiB")


@pytest.fixture
def cli():
    return zrag_cli


def pipeline_args(runs_dir, *extra, cmd='run'):
    ("The smoke pipeline's command line: write, evidence, route (backbone-written questions too, kept by BM25's "
     "round trip; a dense teacher and hard negatives; a second hop trained on the corpus's links; the LLM naming "
     "titles in one hop and in two, the second reading a 16-token recitation), read (biased by the router, with the "
     "routing loss and a pool curriculum; also in two stages, top 4) and compare, 10 documents.")
    return (cmd, '-f', 'params/smoke.yaml', '-p', 'runs_dir', runs_dir, '-p', 'n_docs', '10',
            '-p', 'read_route_bias', '1', '-p', 'read_route_loss', '0.5', '-p', 'read_pool_schedule', '[4, 0]',
            '-p', 'read_mode', 'two_stage', '-p', 'read_top_k', '4',
            '-p', 'route_queries', '[sentence, cloze, question]', '-p', 'route_names', '[question, memory]',
            '-p', 'route_key_tokens', '16', '-p', 'route_name_beams', '3', '-p', 'route_teacher', 'dense',
            '-p', 'route_teacher_weight', '0.5', '-p', 'route_hard_negatives', '2',
            '-p', 'route_question_filter', 'bm25', '-p', 'route_hops', '2',
            '-p', 'stages', '[write, evidence, route, read, compare]', '-q', *extra)


def _run_once(tmp_path_factory, name, args):
    "Run `zrag args(runs_dir)` once into a new runs_dir; return its run folder (`smoke`)."
    root = tmp_path_factory.mktemp(name)
    r = zrag_cli(*args(root))
    assert r.returncode == 0, r.stderr[-3000:]
    return root / 'smoke'


def _private_copy(run_dir, tmp_path):
    "A copy of `run_dir` in `tmp_path`; returns `tmp_path` (the copy's runs_dir)."
    shutil.copytree(run_dir, tmp_path / 'smoke')
    return tmp_path


@pytest.fixture(scope='session')
def pipeline(tmp_path_factory):
    "One smoke run of write, evidence, route, read and compare, run once and read by the tests of those stages."
    return _run_once(tmp_path_factory, 'pipeline', pipeline_args)


@pytest.fixture
def pipeline_copy(pipeline, tmp_path):
    "A private copy of the pipeline's run (its runs_dir), for tests that run stages again."
    return _private_copy(pipeline, tmp_path)


def check_resume_equals_uninterrupted(runs_dir, stage, epochs_key, metrics_file):
    """On a copy of the pipeline (2 epochs): the stage trained afresh for 1 epoch, then run with 2, trains only the
    second epoch and ends with the pipeline's losses: every resumed run equals an uninterrupted one."""
    out = stage_dir(runs_dir / 'smoke', stage)
    losses = lambda: [(h['train_loss'], h['val_loss']) for h in json.loads((out / metrics_file).read_text())['history']]
    n_log, uninterrupted = len(read_jsonl(out / 'train_log.jsonl')), losses()
    r = zrag_cli(*pipeline_args(runs_dir, '-p', epochs_key, '1', '-p', 'resume', 'false', cmd=stage))
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(read_jsonl(out / 'train_log.jsonl')) == n_log // 2 and losses() == uninterrupted[:1]
    r = zrag_cli(*pipeline_args(runs_dir, '-p', epochs_key, '2', cmd=stage))
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(read_jsonl(out / 'train_log.jsonl')) == n_log and losses() == uninterrupted


def smoke_args(runs_dir, *extra, cmd='write'):
    "A command on the smoke run of 4 bundled documents (params/smoke.yaml) in `runs_dir`."
    return [cmd, '-f', 'params/smoke.yaml', '-p', 'runs_dir', runs_dir, '-q', *extra]


@pytest.fixture(scope='session')
def smoke_written(tmp_path_factory):
    "One smoke write (4 documents, 2 epochs), run once; tests that change it take `smoke_copy`."
    return _run_once(tmp_path_factory, 'smoke_written', smoke_args)


@pytest.fixture
def smoke_copy(smoke_written, tmp_path):
    "A private copy of the smoke write's run folder; returns its runs_dir."
    return _private_copy(smoke_written, tmp_path)


@pytest.fixture(scope='session')
def smoke_analyzed(smoke_written, tmp_path_factory):
    "The smoke write, copied as run `a` and analyzed once: (its run folder, the analyze command's CompletedProcess)."
    root = tmp_path_factory.mktemp('analyzed')
    shutil.copytree(smoke_written, root / 'a')
    r = zrag_cli(*smoke_args(root, '-p', 'run_name', 'a', cmd='analyze'))
    assert r.returncode == 0, r.stderr[-3000:]
    return root / 'a', r
