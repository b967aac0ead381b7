"""Does the same write give the same numbers in another process? The smoke write (1 epoch, batch 2) launched N times,
its first epoch's loss counted; KEY=VALUE pairs set environment variables of the launched processes.

    .venv/bin/python benchmarks/diagnostics/write_determinism.py 20                      # 2 threads
    .venv/bin/python benchmarks/diagnostics/write_determinism.py 20 OMP_NUM_THREADS=1    # 1 thread

Prints {loss: launches} and the seconds, as one JSON line. Tests that compare two runs exactly fail when two
launches land on different values. 2026-12-07: 4 of 20 differed with 2 threads, 0 of 20 with 1; the cause was MKL's
vector math initialising itself from two threads at once (the rotary table's cos off by up to 1e-4 in one thread's
half: `zrag.backbone.init_vector_math`); with that fixed, 20 of 20 equal on 2 threads (217 s).
"""
import collections, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from zrag.stages import stage_dir

ROOT = Path(__file__).resolve().parents[2]


def first_loss(env):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([str(Path(sys.executable).parent / 'zrag'), 'write', '-f', 'params/smoke.yaml', '-q',
                        '-p', 'epochs', '1', '-p', 'batch_size', '2', '-p', 'runs_dir', d],
                       cwd=ROOT, check=True, capture_output=True, env=env)
        ck = torch.load(stage_dir(Path(d) / 'smoke', 'write') / 'checkpoint.pt', weights_only=False)
        return ck['history'][0]['loss']


def main():
    if len(sys.argv) < 2: raise SystemExit(__doc__)
    env = dict(os.environ, **dict(kv.split('=', 1) for kv in sys.argv[2:]))
    t0 = time.time()
    seen = collections.Counter(first_loss(env) for _ in range(int(sys.argv[1])))
    print(json.dumps({'env': sys.argv[2:], 'losses': {repr(k): v for k, v in seen.items()},
                      'seconds': round(time.time() - t0)}))


if __name__ == '__main__': main()
