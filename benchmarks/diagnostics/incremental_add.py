"""Incremental add, end to end: documents written after the router, found by their own pseudo-queries?

    .venv/bin/python benchmarks/diagnostics/incremental_add.py -f params/demo.yaml [-p runs_dir DIR] [--fold 0]
        [--save [FILE]]

The run needs its write and route stages. One seeded fold of the run's documents (the route stage's own folds,
`unseen_document_mrr`) plays the new documents; for each key map:
1. a router is trained, at the route stage's layer and with its settings, on the other documents' pseudo-queries;
2. the fold's documents are written again from scratch as new documents (`write_new_documents`: the projection
   frozen, the write stage's own Adam steps, learning rate and length), appended after the memory, and their routing
   keys computed (`routing_keys`); nothing else is retrained;
3. each new document's own pseudo-queries are ranked among the other documents' keys and the new ones (N keys in
   all, the fold's original memories left out).
Reported per key map: the new documents' MRR and Recall@1/8 (each document's queries averaged; bootstrap 95% intervals
over documents), the same documents with the memories the write stage gave them (the route stage's measure), and
chance. The last line is a JSON object; `--save` writes it too.
"""
import dataclasses, json, time
import numpy as np, torch
from zrag.metrics import bootstrap_ci, rank_by, retrieval_per_question
from zrag.route import _KEY_MAPS as KEY_MAPS, load_router, memory_features, pseudo_queries, text_features, train_router
from zrag.stages import stage_dir
from zrag.write import encode_docs, open_written_run, write_new_documents
from run_args import run_parser, run_params, save_option, save_json


def per_document(values, docs):
    "The mean of `values` over each document's queries, in document order."
    values, docs = np.asarray(values, float), np.asarray(docs)
    return [float(values[docs == d].mean()) for d in sorted(set(docs.tolist()))]


def ranked_metrics(scores, gold, docs, seed):
    r = retrieval_per_question(rank_by(scores.numpy()), [{int(g)} for g in gold], (1, 8))
    return {k: bootstrap_ci(per_document(r[k], docs), 1000, seed) for k in ('mrr', 'recall@1', 'recall@8')}


def main():
    ap = run_parser(__doc__)
    ap.add_argument('--fold', type=int, default=0, help='which of the 4 folds of documents plays the new documents')
    save_option(ap, 'incremental_add.json')
    a = ap.parse_args()
    params = run_params(a)
    cfg, seed = params.route, params.run.seed
    t0, w = time.time(), open_written_run(params)
    bb, wcfg, n = w.backbone, w.written.cfg, len(w.corpus.documents)
    layer = load_router(stage_dir(w.run_dir, 'route') / 'router.pt', w.identity()).layer
    new = np.array_split(np.random.default_rng([seed, 41]).permutation(n), 4)[a.fold]        # as unseen_document_mrr
    old = np.setdiff1d(np.arange(n), new)
    pq = pseudo_queries(w.corpus.documents, cfg.route_queries)
    qf = text_features(bb, [p['text'] for p in pq], [layer], cfg.route_max_tokens)[:, 0]     # [P, H]
    doc_of = np.array([p['doc_idx'] for p in pq])
    kf = memory_features(bb.model, w.prefixes(), [layer])[:, 0]                               # [N, H]
    t1 = time.time()
    ids = encode_docs(bb.tokenizer, [w.corpus.documents[d].text for d in new], wcfg.max_doc_tokens)
    mem, losses = write_new_documents(bb, w.memory, ids, wcfg.epochs, wcfg.lr_z, seed)
    write_s = time.time() - t1
    with torch.no_grad():
        new_prefix = mem.prefix(torch.arange(n, n + len(new))).to(bb.dtype)                  # [k, m, H]
    kf_new = memory_features(bb.model, new_prefix, [layer])[:, 0]                             # [k, H]
    pool = torch.cat([kf[old], kf_new])                        # the other documents, then the new ones: N keys
    pos = {d: i for i, d in enumerate(old)}
    train, test = np.isin(doc_of, old), np.isin(doc_of, new)
    gold_new = [len(old) + int(np.where(new == d)[0][0]) for d in doc_of[test]]
    out = {'run': str(w.run_dir), 'layer': layer, 'n_docs': n, 'new_docs': new.tolist(), 'n_queries': int(test.sum()),
           'write_steps': wcfg.epochs, 'write_seconds': round(write_s, 1), 'new_doc_nll': float(np.mean(losses)),
           'chance_mrr': float(np.mean(1 / np.arange(1, n + 1))), 'key_maps': {}}
    for km in KEY_MAPS:
        router = train_router(qf[train], [{pos[d]} for d in doc_of[train]], kf[old],
                              dataclasses.replace(cfg, route_key_map=km), seed)[0]
        out['key_maps'][km] = {'written_anew': ranked_metrics(router(qf[test], pool), gold_new, doc_of[test], seed),
                               'as_written_by_the_write_stage': ranked_metrics(router(qf[test], kf), doc_of[test],
                                                                               doc_of[test], seed)}
        for k, v in out['key_maps'][km].items():
            print(f"{km:8s} {k:30s} MRR {v['mrr']['mean']:.3f} [{v['mrr']['lo']:.3f}, {v['mrr']['hi']:.3f}]  "
                  f"R@1 {v['recall@1']['mean']:.2f}  R@8 {v['recall@8']['mean']:.2f}", flush=True)
    out['seconds'] = round(time.time() - t0, 1)
    save_json(a.save, out)
    print(json.dumps(out))


if __name__ == '__main__': main()
