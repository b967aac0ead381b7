"""Does the trained router find the second document in a second hop? MDR-style conditioning on a routed run.

    .venv/bin/python benchmarks/diagnostics/router_two_hop.py -f params/recite.yaml \
        -p run_name recite_route_recitation_teacher_dense [--save [FILE]]

The run needs its route stage with `route_keys recitation` (its router keeps the memories' recitations). Each
question's first document is the router's first; the second hop ranks the rest with a query that reads that
document's recitation as well: the question then the recitation ('q+A'), the recitation then the question ('A+q'),
or the recitation alone ('A'); scored by the second query alone ('hop2') or by the sum of both hops' log-probabilities
('sum'). Nothing is trained: the router is the route stage's. Every question of the run's corpus that the router did
not train on is scored (R@2 = both gold in the top two, with a bootstrap 95% interval). The last line is a JSON
object with every figure.
"""
import json
import numpy as np, torch
from zrag.metrics import bootstrap_ci, rank_by, retrieval_per_question
from zrag.route import load_router, key_features, text_features
from zrag.stages import run_path, stage_dir
from zrag.write import open_written_run
from run_args import run_parser, run_params, save_option, save_json

QUERIES = {'q+A': lambda q, a: f'{q} {a}', 'A+q': lambda q, a: f'{a} {q}', 'A': lambda q, a: a}


def row(ranked, golds, seed):
    "any@1, R@2 (with its interval) and MRR of `ranked`."
    pq = retrieval_per_question(ranked, golds, (1, 2))
    return {'any@1': float(np.mean(pq['any@1'])), 'recall@2': bootstrap_ci(np.array(pq['recall@2']), 1000, seed),
            'mrr': float(np.mean(pq['mrr']))}


def second_hop(lp1, lp2, first):
    "Each question's ranking: its first document, then the others by `lp2` [Q, N] (the first left out)."
    s = lp2.clone()
    s[torch.arange(len(first)), first] = float('-inf')                        # [Q, N]: the first never again
    return [[f] + [d for d in r if d != f] for f, r in zip(first, rank_by(s.numpy()))]


def main():
    ap = run_parser(__doc__)
    save_option(ap, 'router_two_hop.json')
    a = ap.parse_args()
    params = run_params(a)
    rd = run_path(params)
    w, r = open_written_run(params), load_router(stage_dir(rd, 'route') / 'router.pt')
    if r.recited is None: raise SystemExit(f"{rd}'s router reads no recitation: route it with -p route_keys recitation")
    seen = set(w.corpus.splits['train']) if r.saw_questions else set()     # a router that trained on the train split
    bb, idx, qs = w.backbone, w.corpus.index(), [q for q in w.corpus.questions if q.qid not in seen]
    golds, texts = [{idx[g] for g in q.gold_ids} for q in qs], [q.question for q in qs]
    kf = key_features(bb, w.prefixes(), [r.layer], r.recited, r.key_tokens)[:, 0]                  # [N, H]
    lp1 = torch.log_softmax(r(text_features(bb, texts, [r.layer], r.max_tokens)[:, 0], kf), -1)   # [Q, N]
    first, seed = lp1.argmax(1).tolist(), params.run.seed
    out = {'run': str(rd), 'n_questions': len(qs), 'router, one hop': row(rank_by(lp1.numpy()), golds, seed)}
    for name, make in QUERIES.items():
        q2 = [make(t, r.recited[f]) for t, f in zip(texts, first)]
        lp2 = torch.log_softmax(r(text_features(bb, q2, [r.layer], r.max_tokens + r.key_tokens)[:, 0], kf), -1)
        out[f'two hops: {name}, hop2'] = row(second_hop(lp1, lp2, first), golds, seed)
        out[f'two hops: {name}, sum'] = row(second_hop(lp1, lp1 + lp2, first), golds, seed)
    for k, v in out.items():
        if isinstance(v, dict):
            print(f"{k:28s} any@1 {v['any@1']:.2f}  R@2 {v['recall@2']['mean']:.2f} "
                  f"[{v['recall@2']['lo']:.2f}, {v['recall@2']['hi']:.2f}]  MRR {v['mrr']:.2f}")
    print(json.dumps(out))
    if a.save: save_json(a.save, out)


if __name__ == '__main__':
    main()
