"""Write-phase throughput in one process (2 threads) against two processes (torchrun, gloo, 1 thread each) on the
same machine, documents and parameters, in one run; alternated `--rounds` times, since the machine's speed drifts.

    .venv/bin/python benchmarks/bench_dist_write.py [--docs 16] [--epochs 3] [--batch-size 8] [--rounds 2]

Each configuration is `zrag write` on the bundled corpus into a new folder; throughput is the median over epochs
after the first (warm-up) of `train_log.jsonl`'s tokens/s (real tokens of the global batch). Prints each, the
speed-up and the scaling efficiency (speed-up / 2), and a last line of JSON."""
import argparse, json, os, statistics, subprocess, sys, tempfile
from pathlib import Path
from zrag.stages import stage_dir

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(nproc, threads, runs_dir, a):
    "tokens/s of one `zrag write` in `nproc` processes of `threads` threads each."
    params = ['write', '-f', 'params/smoke.yaml', '-p', 'runs_dir', str(runs_dir), '-p', 'n_docs', str(a.docs),
              '-p', 'epochs', str(a.epochs), '-p', 'batch_size', str(a.batch_size), '-p', 'm_tokens', '16',
              '-p', 'z_dim', '256', '-p', 'proj_hidden', '512', '-q']
    cmd = ([str(BIN / 'zrag')] if nproc == 1 else
           [str(BIN / 'torchrun'), '--nproc_per_node', str(nproc), '--standalone', str(BIN / 'zrag')])
    r = subprocess.run(cmd + params, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS=str(threads)),
                       capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    log = [json.loads(line) for line in (stage_dir(Path(runs_dir) / 'smoke', 'write') / 'train_log.jsonl').open()]
    return statistics.median(h['tokens_per_s'] for h in log[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--docs', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--rounds', type=int, default=2)
    a = ap.parse_args()
    one, two = [], []
    with tempfile.TemporaryDirectory() as d:
        for k in range(a.rounds):
            one.append(run(1, 2, Path(d) / f'one{k}', a))
            two.append(run(2, 1, Path(d) / f'two{k}', a))
            print(f"round {k + 1}: 1 process x 2 threads {one[-1]:7.1f} tokens/s, "
                  f"2 processes x 1 thread {two[-1]:7.1f} tokens/s", flush=True)
    t1, t2 = statistics.median(one), statistics.median(two)
    print(f"documents {a.docs}, batch {a.batch_size}, epochs {a.epochs} (first not counted), rounds {a.rounds}")
    print(f"speed-up 2 processes / 1 process: {t2 / t1:.2f}x; scaling efficiency {t2 / t1 / 2:.0%}")
    print(json.dumps({'one_process_tokens_per_s': round(t1, 1), 'two_processes_tokens_per_s': round(t2, 1),
                      'speedup': round(t2 / t1, 3), 'efficiency': round(t2 / t1 / 2, 3), 'docs': a.docs,
                      'batch_size': a.batch_size, 'rounds': a.rounds}))


if __name__ == '__main__':
    main()
