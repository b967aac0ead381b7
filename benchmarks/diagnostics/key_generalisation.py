"""Do routing keys find documents the router never trained on? Leave-documents-out folds on a finished run.

    .venv/bin/python benchmarks/diagnostics/key_generalisation.py -f params/demo.yaml [-p runs_dir DIR] \
        [--folds 4] [--save [FILE]]

The run needs its write stage. As the route stage's `unseen_document_mrr` does at its chosen layer, the documents
are cut into `--folds` seeded folds; for each fold a router is trained (the route stage's own `train_router` and
settings) on the other documents' pseudo-queries only, and the fold's documents' pseudo-queries are ranked among all
N documents' keys: the situation of a document written after the router, as `add_documents` appends it. Here per
layer of `route_layers` and per key map:
- `separate` and `tied` (`route_key_map`): the router's two projections, or one for both sides;
- `cosine`: no training at all, the cosine of the standardised question and memory features (a control);
- `recitation, tied`: the tied router with the memory side replaced by the text features of what the frozen LLM
  recites from z (32 greedy tokens), an option that costs a generation per document (not built into zrag).
Reported: the held-out documents' MRR (each document's queries averaged, a bootstrap 95% interval over documents),
the paired difference tied - separate, and the MRR of the run's real questions when the router trains on every
document (as the route stage does). The last line is a JSON object with every figure; `--save` writes it too.
"""
import dataclasses, json, time
import numpy as np, torch
from zrag.metrics import bootstrap_ci, paired_diff, rank_by, retrieval_per_question
from zrag.route import layer_ids, memory_features, pseudo_queries, text_features, train_router, unseen_document_mrr
from zrag.write import open_written_run, generate_from_z
from run_args import run_parser, run_params, save_option, save_json

VARIANTS = ('separate', 'tied', 'cosine', 'recitation, tied')


def features(w, cfg, layers):
    "Pseudo-queries' features [P, nl, H] and documents, memory features [N, nl, H], recitation features, questions."
    bb, docs = w.backbone, w.corpus.documents
    pq = pseudo_queries(docs, cfg.route_queries)
    qf = text_features(bb, [p['text'] for p in pq], layers, cfg.route_max_tokens)
    kf = memory_features(bb.model, w.prefixes(), layers)
    rf = text_features(bb, generate_from_z(bb, w.memory, list(range(len(docs))), max_new_tokens=32), layers,
                       cfg.route_max_tokens)
    idx, qs = w.corpus.index(), w.corpus.questions
    Qf = text_features(bb, [q.question for q in qs], layers, cfg.route_max_tokens)
    return qf, np.array([p['doc_idx'] for p in pq]), kf, rf, Qf, [{idx[g] for g in q.gold_ids} for q in qs]


def scorer(variant, qf, golds, kf, cfg, seed):
    "A function of (question features, memory features) -> scores, fitted on training queries `qf` and keys `kf`."
    if variant == 'cosine':
        q_mu, k_mu = qf.mean(0), kf.mean(0)
        unit = torch.nn.functional.normalize
        return lambda q, k: unit(q - q_mu, dim=-1) @ unit(k - k_mu, dim=-1).T
    km = 'separate' if variant == 'separate' else 'tied'
    r, _ = train_router(qf, golds, kf, dataclasses.replace(cfg, route_key_map=km), seed)
    return r


def main():
    ap = run_parser(__doc__)
    ap.add_argument('--folds', type=int, default=4)
    save_option(ap, 'key_generalisation.json')
    a = ap.parse_args()
    params = run_params(a)
    cfg, seed = params.route, params.run.seed
    t0, w = time.time(), open_written_run(params)
    n = len(w.corpus.documents)
    layers = layer_ids(w.backbone.model.config.num_hidden_layers, cfg.route_layers)
    qf, pg, kf, rf, Qf, Qg = features(w, cfg, layers)
    rows = {}
    for j, layer in enumerate(layers):
        row, per_doc = {}, {}
        for v in VARIANTS:
            keys = rf if v.startswith('recitation') else kf
            fit = lambda q, g, k, v=v: scorer(v, q, g, k, cfg, seed)
            per_doc[v] = unseen_document_mrr(qf[:, j], pg, keys[:, j], cfg, seed, a.folds, fit).tolist()
            everything = scorer(v, qf[:, j], [{int(d)} for d in pg], keys[:, j], cfg, seed)
            q_rr = retrieval_per_question(rank_by(everything(Qf[:, j], keys[:, j]).numpy()), Qg, (1,))['mrr']
            row[v] = {'heldout_docs_mrr': bootstrap_ci(per_doc[v], 1000, seed),
                      'questions_mrr': bootstrap_ci(q_rr, 1000, seed)}
            print(f"layer {layer:3d} {v:17s} held-out documents MRR {row[v]['heldout_docs_mrr']['mean']:.3f}  "
                  f"questions MRR {row[v]['questions_mrr']['mean']:.3f}", flush=True)
        row['tied_minus_separate'] = paired_diff(per_doc['tied'], per_doc['separate'], 1000, seed)
        rows[str(layer)] = row
    out = {'run': str(w.run_dir), 'n_docs': n, 'n_pseudo_queries': len(pg), 'n_questions': len(Qg),
           'folds': a.folds, 'chance_mrr': float(np.mean(1 / np.arange(1, n + 1))), 'layers': rows,
           'seconds': round(time.time() - t0, 1)}
    save_json(a.save, out)
    print(json.dumps(out))


if __name__ == '__main__': main()
