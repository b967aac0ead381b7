"""Routing ablation: one row per routing signal, each measured on a private copy of a finished run.

    .venv/bin/python benchmarks/diagnostics/routing_ablation.py --run runs/demo -f params/demo.yaml [--out F.json]

The run needs the write, evidence and route stages (`make demo` makes one). Two groups of rows:
- **router** (the route stage run again on the copy, one change each): scored on every question that no training step
  saw, the stage's own table (MRR with its interval, the paired gain over its question-independent prior);
- **read** (the read stage trained again from scratch on the copy, one change each, every other setting from the
  params file): the routing of the test questions' evidence (attention mass of the generating positions, every
  memory in the pool), its paired gain over the prior of the same profiles, the profile correlation, and the
  evidence's answer coverage.
The attention diagnostics of the frozen model (all heads, first memory token left out, calibrated, chosen heads) and
the noise-control router are rows of the route stage's own table, copied from the run with their prior's MRR (the
attention rows' prior is that of the attention profiles; its paired gain is not stored, so none is shown).
The last line is a JSON object with every row."""
import argparse, json, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
from zrag.core import read_jsonl
from zrag.metrics import bootstrap_ci, prior_ranking, profile_correlation
from zrag.route import routing_table
from zrag.stages import STAGES, stage_dir
from run_args import outside_runs

ROUTER = {'router: sentence + cloze': [],
          'router: + backbone-written questions': ['route_queries', '[sentence, cloze, question]'],
          'router: + train questions': ['route_train_questions', 'true']}
READ = {'read: no signal': ['read_route_bias', '0', 'read_route_loss', '0'],
        'read: router bias 1.0': ['read_route_bias', '1', 'read_route_loss', '0'],
        'read: routing loss 1.0': ['read_route_bias', '0', 'read_route_loss', '1'],
        'read: routing loss 10': ['read_route_bias', '0', 'read_route_loss', '10'],
        'read: routing loss 1.0 + router bias 1.0': ['read_route_bias', '1', 'read_route_loss', '1'],
        'read: pool curriculum [4, 8, 16, 0]': ['read_route_bias', '0', 'read_route_loss', '0',
                                               'read_pool_schedule', '[4, 8, 16, 0]']}
REDONE = ('analyze', 'read', 'compare')    # folders the copy leaves out: not read, retrained, or made stale
COPIED = ('attention: all heads', 'attention: first memory token left out',
          'attention: + calibrated (content-free question)', 'attention: + ',   # last: '+ <k> heads chosen ...'
          'router: memory features replaced by noise')


def zrag(stage, params, runs_dir, pairs):
    "Run one stage of the CLI on the copy; a failure stops the ablation with its message."
    sets = [a for k, v in zip(pairs[::2], pairs[1::2]) for a in ('-p', k, v)]
    cmd = [str(Path(sys.executable).with_name('zrag')), stage, '-f', params, '-p', 'runs_dir', runs_dir,
           '-p', 'resume', 'false', '-q', *sets]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode: sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")


def copy_run(run, root):
    "The run's folder copied under `root` (same run name), without the stages that are redone."
    dst = Path(root) / run.name
    shutil.copytree(run, dst, ignore=shutil.ignore_patterns(*(STAGES[s].folder for s in REDONE)))
    return dst


def router_row(run_dir):
    "The route stage's own row 'router' on the unseen questions."
    t = json.loads((stage_dir(run_dir, 'route') / 'routing_metrics.json').read_text())['tables']['unseen']
    r = t['rows']['router']
    return {'n': t['n'], 'mrr': r['mrr'], 'prior_mrr': t['rows']['prior']['mrr']['mean'],
            'gain_vs_prior': r['mrr_vs_prior'], 'recall@2': r['recall@2']['mean'],
            'profile_correlation': t['profile_correlation']['router']}


def read_row(run_dir, n_boot=1000, seed=0):
    "Routing of the read stage's test questions beside the prior of the same profiles, and answer coverage."
    gens = read_jsonl(stage_dir(run_dir, 'read') / 'generations.jsonl')
    golds, N = [set(g['gold']) for g in gens], len(gens[0]['routing'])
    prof = np.array([[g['routing'][str(d)] for d in range(N)] for g in gens])        # [Q, N], JSON keys are text
    log = read_jsonl(stage_dir(run_dir, 'read') / 'train_log.jsonl')
    epochs = sorted({r['epoch'] for r in log}) if 'route_loss' in log[0] else []
    route = [float(np.mean([r['route_loss'] for r in log if r['epoch'] == e])) for e in epochs]   # training questions'
    t = routing_table({'prior': prior_ranking(prof), 'read': [g['ranked'] for g in gens]}, golds, [2], n_boot, seed)
    return {'n': len(gens), 'mrr': t['read']['mrr'], 'prior_mrr': t['prior']['mrr']['mean'],
            'gain_vs_prior': t['read']['mrr_vs_prior'], 'recall@2': t['read']['recall@2']['mean'],
            'profile_correlation': profile_correlation(prof),
            'coverage': bootstrap_ci([g['answer_coverage'] for g in gens], n_boot, seed), 'train_route_loss': route}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', required=True, help='a run folder with the write, evidence and route stages')
    ap.add_argument('-f', '--params', required=True, help='the params file the run was made with')
    ap.add_argument('--out', type=outside_runs, help='also write the rows to this JSON file (never inside a run)')
    ap.add_argument('--only', nargs='*', default=None, help='run only the rows of these names')
    a = ap.parse_args()
    run, rows, t_all = Path(a.run), {}, time.time()
    base = json.loads((stage_dir(run, 'route') / 'routing_metrics.json').read_text())['tables']['unseen']
    for start in COPIED:
        name = next(k for k in base['rows'] if k.startswith(start) and (start != 'attention: + ' or 'heads' in k))
        r, prior = base['rows'][name], 'prior' if name.startswith('router') else 'prior of the attention'
        rows[name] = {'n': base['n'], 'mrr': r['mrr'], 'prior_mrr': base['rows'][prior]['mrr']['mean'],
                      'gain_vs_prior': r['mrr_vs_prior'] if prior == 'prior' else None,
                      'recall@2': r['recall@2']['mean'], 'profile_correlation': base['profile_correlation'].get(name)}
        print(f"{name:48s} {fmt(rows[name])}", flush=True)
    for group, stage, variants, row in (('router', 'route', ROUTER, router_row), ('read', 'read', READ, read_row)):
        for name, pairs in variants.items():
            if a.only is not None and name not in a.only: continue
            with tempfile.TemporaryDirectory() as root:
                t0 = time.time(); dst = copy_run(run, root)
                zrag(stage, a.params, root, pairs + (['read_pool_sizes', '[0]'] if stage == 'read' else []))
                rows[name] = {**row(dst), 'seconds': round(time.time() - t0, 1)}
            print(f"{name:48s} {fmt(rows[name])}", flush=True)
    print(f"total {time.time() - t_all:.0f} s")
    if a.out: Path(a.out).write_text(json.dumps(rows, indent=1))
    print(json.dumps(rows))


def fmt(r):
    ci = lambda c: f"{c['mean']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}]"
    cov = f"  coverage {ci(r['coverage'])}" if 'coverage' in r else ''
    if r.get('train_route_loss'): cov += f"  train routing loss by epoch {[round(x, 2) for x in r['train_route_loss']]}"
    gain = ci(r['gain_vs_prior']) if r['gain_vs_prior'] else '-'
    corr = 'n/a' if r['profile_correlation'] is None else f"{r['profile_correlation']:.2f}"
    return (f"n={r['n']:3d}  MRR {ci(r['mrr'])}  prior {r['prior_mrr']:.3f}  gain {gain}  R@2 {r['recall@2']:.2f}  "
            f"corr {corr}{cov}")


if __name__ == '__main__': main()
