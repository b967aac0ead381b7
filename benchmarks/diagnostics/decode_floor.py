"""The per-token floor of the bundled model on this machine: 64 greedy tokens read from 8 memories by `read_generate`
(zrag's grouped-query attention, and transformers' sdpa), against a plain transformers decoding loop
(`model(input_ids=..., cache=...)`) with the prompt alone in its cache. Alternated `--reps` times; medians.
Explains why the two-stage read's 64-token evidence cannot fall much below 64 x this floor, whatever N.
`--profile` adds the share of a read's decoding steps spent in matrix products (torch.profiler; the weights streamed
per token) against everything else (eager PyTorch's per-operation cost); `--compile` times the read again with the
model's forward compiled (`torch.compile`, dynamic shapes; the compile time is printed).

    .venv/bin/python benchmarks/diagnostics/decode_floor.py [--reps 4] [--tokens 64] [--profile] [--compile]
"""
import argparse, json, time
import numpy as np, torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.evidence import encode_evidence
from zrag.kv import memory_kv, compose, read_generate
from zrag.write import WriteConfig, DocMemory


@torch.no_grad()
def plain_loop(bb, prompt, tokens):
    "Seconds of `tokens` greedy steps of the plain model after its prompt (the prompt's forward not counted)."
    o = bb.model(input_ids=torch.tensor([prompt]), use_cache=True)
    pkv, nxt = o.cache, o.logits[:, -1:].argmax(-1)
    t0 = time.time()
    for _ in range(tokens):
        o = bb.model(input_ids=nxt, cache=pkv, use_cache=True, logits_to_keep=1)
        nxt = o.logits[:, -1:].argmax(-1)
    return time.time() - t0


def matmul_share(bb, cache, prompt, tokens):
    "Share of the profiled self CPU time of a read's decoding that matrix products take."
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        read_generate(bb.model, cache, bb.embed, prompt, tokens)
    ev = prof.key_averages()
    return sum(e.self_cpu_time_total for e in ev if e.key in ('aten::mm', 'aten::addmm', 'aten::bmm')) / \
        sum(e.self_cpu_time_total for e in ev)


def compiled(bb, cache, prompt, tokens, reps):
    "(seconds to compile, median ms per token) of the read with the model's forward compiled."
    eager = bb.model.forward
    bb.model.forward = torch.compile(eager, dynamic=True)
    try:
        t0 = time.time(); read_generate(bb.model, cache, bb.embed, prompt, 8); compile_s = time.time() - t0
        runs = [read_generate(bb.model, cache, bb.embed, prompt, tokens) for _ in range(reps)]
    finally: bb.model.forward = eager
    return compile_s, float(np.median([(r['seconds'] - r['ttft']) / (len(r['ids']) - 1) for r in runs])) * 1000


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--reps', type=int, default=4)
    ap.add_argument('--tokens', type=int, default=64)
    ap.add_argument('--profile', action='store_true', help='the share of matrix products in a decoding step')
    ap.add_argument('--compile', action='store_true', help='also time the read with torch.compile (minutes)')
    a = ap.parse_args()
    bb = load_backbone(BackboneConfig())
    mem = DocMemory(8, WriteConfig(), bb.hidden_size).eval()
    with torch.no_grad(): kv = memory_kv(bb.model, mem.prefix(torch.arange(8)))
    prompt = encode_evidence(bb.tokenizer, 'Which river flows through the capital of the country?')[0]
    cache = compose(kv, room=len(prompt) + a.tokens + 1)
    read_generate(bb.model, cache, bb.embed, prompt, 4)                                       # warm-up
    res = {'read_gqa': [], 'read_sdpa': [], 'plain': []}
    for _ in range(a.reps):
        for gqa in (True, False):
            r = read_generate(bb.model, cache, bb.embed, prompt, a.tokens, gqa=gqa)
            res['read_gqa' if gqa else 'read_sdpa'].append((r['seconds'] - r['ttft']) / (len(r['ids']) - 1))
        res['plain'].append(plain_loop(bb, prompt, a.tokens) / a.tokens)
    out = {k: float(np.median(v)) * 1000 for k, v in res.items()}
    for k, v in out.items(): print(f"{k:10s} {v:.1f} ms per token (median of {a.reps})")
    print(f"read / plain: {out['read_gqa'] / out['plain']:.2f}x")
    extra = {}
    if a.profile:
        extra['matmul_share'] = matmul_share(bb, cache, prompt, 16)
        print(f"matrix products: {extra['matmul_share']:.0%} of a decoding step's self CPU time")
    if a.compile:
        extra['compile_s'], extra['compiled_ms_per_token'] = compiled(bb, cache, prompt, a.tokens, a.reps)
        print(f"compiled read: {extra['compiled_ms_per_token']:.1f} ms per token after {extra['compile_s']:.0f} s "
              "of compiling")
    print(json.dumps({'ms_per_token': out, 'reps': a.reps, 'threads': torch.get_num_threads(), **extra}))


if __name__ == '__main__': main()
