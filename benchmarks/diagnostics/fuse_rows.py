"""Would fusing two routing rankings help? Reciprocal rank fusion of two route stages' rows, offline.

    .venv/bin/python benchmarks/diagnostics/fuse_rows.py RUN_A ROW_A RUN_B ROW_B
    e.g. runs/recite "LLM names titles: two hops, the first's memory recited" runs/recite_route_recitation router

Each run's `per_question.jsonl` (route stage) keeps each row's top 10 per question; the two rows' top 10s are fused
with `zrag.metrics.fuse_rankings` (k = 60) and scored on the questions both runs hold (any@1, R@2 = both gold in the
top two). The route stage's own fused row (`zrag.route.fused_row()`) fuses the whole rankings; this is for rows of
two different runs, e.g. a router trained otherwise. The last line is a JSON object with every figure.
"""
import json, sys
from zrag.core import read_jsonl
from zrag.metrics import fuse_rankings, retrieval_metrics
from zrag.stages import stage_dir


def rows(run, row):
    "{qid: (row's top 10, gold)} of the route stage of `run`."
    return {r['qid']: (r[row], r['gold']) for r in read_jsonl(stage_dir(run, 'route') / 'per_question.jsonl')}


def main():
    if len(sys.argv) != 5: raise SystemExit(__doc__)
    a, b = rows(*sys.argv[1:3]), rows(*sys.argv[3:5])
    qids = sorted(set(a) & set(b))
    gold = [set(a[q][1]) for q in qids]
    ranked = {'A': [a[q][0] for q in qids], 'B': [b[q][0] for q in qids]}
    ranked['fused'] = fuse_rankings(ranked['A'], ranked['B'])
    out = {k: {m: round(v, 3) for m, v in retrieval_metrics(r, gold, (1, 2)).items() if m in ('any@1', 'recall@2')}
           for k, r in ranked.items()}
    for k, v in out.items(): print(f"{k:6s} any@1 {v['any@1']:.2f}  R@2 {v['recall@2']:.2f}  (n = {len(qids)})")
    print(json.dumps({'n': len(qids), **out}))


if __name__ == '__main__':
    main()
