"""Phase 4 quality against N, on a finished run's trained memories padded with distractor memories.

    .venv/bin/python benchmarks/diagnostics/read_scale_quality.py -f params/demo.yaml [-p runs_dir DIR] \
        --paragraphs ../shared/data/hotpotqa/dev_distractor_300.jsonl [--distractors 256] [--save [FILE]]

The run needs the write and route stages; with a read stage its read adapter is used too. Distractors are HotpotQA
paragraphs that are not in the run's corpus (seeded order), written into the run's memory as `write_new_documents`
writes a new document: the projection frozen, each z given the write stage's own number of Adam steps (`epochs`) at
its `lr_z` (`--write-steps` and `--write-tokens` trade that fidelity for time: the write runs at about 200 tokens/s
on 2 cores). Their routing keys come from the frozen router. Nothing is retrained. For each N (the corpus, then the
corpus plus more distractors):
- **first stage**: Recall@k (k = 8, 32, 128) and MRR of the gold documents of every question the router did not
  train on, ranked by the router's keys (one matrix product);
- **full-attention routing**: the same questions ranked by the attention mass their tokens put on each memory (all
  layers and heads; the read adapter on when the run has one), up to `--attention-max` memories;
- **evidence** (runs with a read stage, test questions): answer coverage of the two-stage read (top `read_top_k`)
  and of the full read, with the paired difference;
- **added documents**: each distractor's own pseudo-queries (sentences and clozes, as the route stage makes them)
  ranked among all N: is the new document found with nothing retrained?
The last line is a JSON object with every figure; `--save` also writes it to FILE (alone: to
`benchmarks/results/scale_quality.json`; never inside a run folder). The comparison report draws it when given its
path: `zrag compare -f PARAMS -p scale_quality_file FILE`.
"""
import json, time
import numpy as np, torch
from zrag.adapters import add_lora, load_adapter
from zrag.data import read_qa_file
from zrag.kv import compose, read_generate
from zrag.metrics import answer_coverage, bootstrap_ci, paired_diff, rank_by, retrieval_metrics
from zrag.read import read_data
from zrag.route import attention_mass, load_router, pseudo_queries
from zrag.scale import two_stage_read, two_stage_reader
from zrag.stages import stage_dir
from zrag.write import encode_docs, open_written_run, write_new_documents
from run_args import run_parser, run_params, save_option, save_json

KS = (8, 32, 128)


def distractors(path, corpus, n, seed):
    "`n` HotpotQA paragraphs of `path` whose title and id are not in the run's corpus, in a seeded order."
    docs = list(read_qa_file(path)[0].values())
    have = {d.doc_id for d in corpus.documents} | {d.title for d in corpus.documents}
    docs = [d for d in docs if d.doc_id not in have and d.title not in have]
    order = np.random.default_rng([seed, 40]).permutation(len(docs))[:n]
    return [docs[i] for i in order]


def write_distractors(w, docs, params, steps=None, max_tokens=None):
    ("The run's memory with `docs` written after its own documents (projection frozen; the write stage's own steps, "
     "learning rate and length unless `steps` / `max_tokens` say otherwise); their mean loss and the seconds taken.")
    t0, cfg = time.time(), w.written.cfg
    ids = encode_docs(w.backbone.tokenizer, [d.text for d in docs], max_tokens or cfg.max_doc_tokens)
    mem, losses = write_new_documents(w.backbone, w.memory, ids, steps or cfg.epochs, cfg.lr_z, params.run.seed)
    return mem, float(np.mean(losses)), time.time() - t0


def reading_model(w, params):
    "The read adapter of the run (the backbone's model when the run has no read stage), and whether there is one."
    best = stage_dir(w.run_dir, 'read') / 'adapter_best'
    if not best.exists(): return w.backbone.model, False
    pm = add_lora(w.backbone, params.evidence, params.run.seed)
    load_adapter(pm, best)
    return pm.eval(), True


def attention_ranking(w, reader, texts, n):
    "Questions ranked by the attention mass of their tokens on each of the first `n` memories (the full read's)."
    kv = reader.cache.get(list(range(n)))                                            # every memory, recomputed
    mass = attention_mass(w.backbone, kv, texts, reader.router.max_tokens)[0]       # [Q, L, h, n]
    return rank_by(mass.mean((1, 2)).numpy())


def evidence_rows(reader, data, n, cfg, backbone, seed):
    "Answer coverage of the test questions read from the top-k of the first `n` memories and from all of them."
    keys, two, full = reader.keys, [], []
    reader.keys = keys[:n]
    try:
        for q in data.splits['test']:
            qq, prompt = data.questions[q], data.encoded[q][0]
            r = two_stage_read(reader, qq.question, prompt, cfg.read_max_new_tokens, backbone.eos_id,
                               cfg.read_route_bias)
            two.append(answer_coverage(qq.answers, backbone.tokenizer.decode(r['ids'], skip_special_tokens=True)))
            bias = cfg.read_route_bias * torch.log_softmax(r['scores'], -1)[None] if cfg.read_route_bias else None
            cache = compose(reader.cache.get(list(range(n))), room=len(prompt) + cfg.read_max_new_tokens + 1)
            f = read_generate(reader.model, cache, backbone.embed, prompt, cfg.read_max_new_tokens, backbone.eos_id,
                              doc_bias=bias)
            full.append(answer_coverage(qq.answers, backbone.tokenizer.decode(f['ids'], skip_special_tokens=True)))
    finally: reader.keys = keys
    return {'n': len(two), 'two_stage': bootstrap_ci(two, 1000, seed), 'full': bootstrap_ci(full, 1000, seed),
            'two_stage_vs_full': paired_diff(two, full, 1000, seed)}


def added_rows(reader, docs, n_corpus, n, seed):
    "The distractors among the first `n` memories, found by their own pseudo-queries among all `n`?"
    pq = [p for p in pseudo_queries(docs[:n - n_corpus]) if p['doc_idx'] < n - n_corpus]
    if not pq: return None
    scores = reader.scores([p['text'] for p in pq])[:, :n]                                # [P, n]
    ranked = rank_by(scores.numpy())
    return {'n_queries': len(pq), 'n_docs_added': n - n_corpus,
            **retrieval_metrics(ranked, [{n_corpus + p['doc_idx']} for p in pq], (1,) + KS)}


def measure(w, reader, data, docs, questions, golds, sizes, a, params):
    "One row per N: first stage, full-attention routing, evidence and added documents."
    n_corpus, rows = len(w.corpus.documents), []
    q_scores = reader.scores([q.question for q in questions])                             # [Q, N_all]
    for n in sizes:
        t0 = time.time()
        row = {'n_docs': n, 'n_questions': len(questions),
               'first_stage': retrieval_metrics(rank_by(q_scores[:, :n].numpy()), golds, KS)}
        if n <= a.attention_max:
            row['attention'] = retrieval_metrics(attention_ranking(w, reader, [q.question for q in questions], n),
                                                 golds, KS)
        if data is not None and n <= a.evidence_max:
            row['evidence'] = evidence_rows(reader, data, n, params.read, w.backbone, params.run.seed)
        if n > n_corpus: row['added'] = added_rows(reader, docs, n_corpus, n, params.run.seed)
        row['seconds'] = round(time.time() - t0, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main():
    ap = run_parser(__doc__)
    ap.add_argument('--paragraphs', required=True, help='a HotpotQA file whose other paragraphs become distractors')
    ap.add_argument('--distractors', type=int, default=256)
    ap.add_argument('--write-steps', type=int, help="Adam steps per distractor (default: the write stage's epochs)")
    ap.add_argument('--write-tokens', type=int, help="distractors cut to this many tokens (default: the write stage's)")
    ap.add_argument('--sizes', type=int, nargs='*', help='N values (default: the corpus, then + 32, 96, all)')
    ap.add_argument('--attention-max', type=int, default=400, help='largest N with the attention routing row')
    ap.add_argument('--evidence-max', type=int, default=400, help='largest N with the evidence rows')
    save_option(ap, 'scale_quality.json')
    a = ap.parse_args()
    params = run_params(a)
    w = open_written_run(params)
    n_corpus = len(w.corpus.documents)
    docs = distractors(a.paragraphs, w.corpus, a.distractors, params.run.seed)
    mem, dloss, write_s = write_distractors(w, docs, params, a.write_steps, a.write_tokens)
    print(f"{len(docs)} distractors written in {write_s:.0f} s (mean NLL {dloss:.2f})", flush=True)
    model, has_read = reading_model(w, params)
    router = load_router(stage_dir(w.run_dir, 'route') / 'router.pt', w.identity())
    reader = two_stage_reader(w.backbone, model, mem, router, params.read.read_top_k, params.read.read_cache_mb)
    seen = set(w.corpus.splits['train']) if router.saw_questions else set()
    questions = [q for q in w.corpus.questions if q.qid not in seen]
    idx = w.corpus.index()
    golds = [{idx[g] for g in q.gold_ids} for q in questions]
    data = read_data(w.corpus, params.evidence, w.backbone.tokenizer) if has_read else None
    sizes = a.sizes or sorted({n_corpus, n_corpus + 32, n_corpus + 96, n_corpus + len(docs)})
    rows = measure(w, reader, data, docs, questions, golds, [n for n in sizes if n <= mem.n_docs], a, params)
    out = {'run': str(w.run_dir), 'n_corpus': n_corpus, 'distractors': len(docs), 'distractor_write_s': write_s,
           'write_steps': a.write_steps or w.written.cfg.epochs,
           'write_tokens': a.write_tokens or w.written.cfg.max_doc_tokens,
           'distractor_mean_nll': dloss, 'read_top_k': reader.top_k, 'read_adapter': has_read, 'rows': rows}
    save_json(a.save, out)
    print(json.dumps(out))


if __name__ == '__main__': main()
