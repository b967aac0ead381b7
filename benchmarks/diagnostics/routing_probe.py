"""Does the read phase's routing read the question? A diagnostic, not a timing: on a run with a finished read stage
(`make demo` makes one), it scores routing rankings built from the attention in several ways
(all memory tokens as in `zrag.kv.routing_scores`; without each memory's first token, an attention-sink position;
question positions only; per layer group; renormalised per head), with the read adapter and without it, on the
validation and the test questions, and prints MRR, any@5, Recall@10 and how many questions get distinct top-3
rankings. Pick a variant on validation, never on test. About 3 minutes on the demo (2 CPU cores).

    .venv/bin/python benchmarks/diagnostics/routing_probe.py -f params/demo.yaml [-p run_name NAME] [-p runs_dir DIR]
"""
import numpy as np, torch
from zrag.write import open_written_run
from zrag.stages import stage_dir
from zrag.adapters import add_lora, load_adapter
from zrag.evidence import build_evidence_dataset, encode_evidence
from zrag.kv import memory_kv, compose, read_generate, read_forward, rewind
from zrag.read import question_targets
from zrag.metrics import retrieval_metrics
from run_args import run_parser, run_params
params = run_params(run_parser(__doc__).parse_args())
cfg, ecfg = params.read, params.evidence
w = open_written_run(params)
rd, corpus, bb, memory = w.run_dir, w.corpus, w.backbone, w.memory
samples, _ = build_evidence_dataset(corpus, ecfg)
qt = question_targets(samples); qs = {q.qid: q for q in corpus.questions}
with torch.no_grad(): kv = memory_kv(bb.model, memory.prefix(torch.arange(memory.n_docs)))
N, m = memory.n_docs, kv.m
pm = add_lora(bb, ecfg, 0)
load_adapter(pm, stage_dir(rd, 'read') / 'adapter_best')
def attn_for(model, q, use_adapter=True):
    ids = encode_evidence(bb.tokenizer, qs[q].question)[0]
    cache = compose(kv, room=len(ids) + 60)
    r = read_generate(model, cache, bb.embed, ids, 48, bb.eos_id)
    rewind(cache); seq = ids + r['ids'][:-1] if r['ids'] else ids
    model.set_attn_implementation('eager')
    with torch.no_grad():
        o = read_forward(model, cache, bb.embed(torch.tensor([seq])), output_attentions=True, gqa=False)
    model.set_attn_implementation('sdpa')
    n_gen = max(1, len(r['ids']))
    A = torch.stack([a[0] for a in o.attentions])[:, :, :, :N * m].float()     # [L, h, T, N*m]
    return A.reshape(*A.shape[:3], N, m), len(ids), n_gen                       # [L, h, T, N, m]
def per_head_share(B): return (B / B.sum(-1, keepdim=True).clamp_min(1e-9)).mean((0, 1, 2))
variants = {
  'all (current)': lambda A, P, G: A[:, :, -G:].sum(-1).mean((0, 1, 2)),
  'no token 0': lambda A, P, G: A[:, :, -G:, :, 1:].sum(-1).mean((0, 1, 2)),
  'question positions': lambda A, P, G: A[:, :, :P].sum(-1).mean((0, 1, 2)),
  'question, no token 0': lambda A, P, G: A[:, :, :P, :, 1:].sum(-1).mean((0, 1, 2)),
  'renormalised per head, no token 0': lambda A, P, G: per_head_share(A[:, :, -G:, :, 1:].sum(-1)),
}
for L in range(0, 30, 5):
    variants[f'layers {L}-{L+4}, no token 0'] = (lambda L: lambda A, P, G:
                                                 A[L:L + 5, :, -G:, :, 1:].sum(-1).mean((0, 1, 2)))(L)
for split in ('validation', 'test'):
    qids = [q for q, v in qt.items() if v[0] == split]
    for name, model in (('read adapter', pm), ('no adapter', None)):
        scores = {k: [] for k in variants}; golds = []
        for q in qids:
            if model is None:
                with pm.disable_adapter(): A, P, G = attn_for(pm, q)
            else: A, P, G = attn_for(pm, q)
            for k, f in variants.items(): scores[k].append(np.argsort(-f(A, P, G).numpy(), kind='stable').tolist())
            golds.append(set(qt[q][2]))
        for k in variants:
            rm = retrieval_metrics(scores[k], golds, [1, 2, 5, 10])
            tops = {tuple(r[:3]) for r in scores[k]}
            print(f"{split:10s} {name:12s} {k:36s} MRR {rm['mrr']:.3f} any@5 {rm['any@5']:.2f} "
                  f"recall@10 {rm['recall@10']:.2f}  distinct top-3 {len(tops)}/{len(qids)}", flush=True)
