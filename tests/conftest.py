"Shared fixtures: the real bundled backbone (loaded once), the HotpotQA samples (skipped when absent), CLI runner."
import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
HOTPOT = Path(os.environ.get('ZRAG_HOTPOTQA_DIR', ROOT.parent / 'shared' / 'data' / 'hotpotqa'))


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
    "Run the installed `zrag` console script; return the CompletedProcess."
    exe = Path(sys.executable).parent / 'zrag'
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return zrag_cli
