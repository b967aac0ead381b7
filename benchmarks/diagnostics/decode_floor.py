"""The per-token floor of the bundled model on this machine: 64 greedy tokens read from 8 memories by `read_generate`
(zrag's grouped-query attention, and transformers' sdpa), against a plain transformers decoding loop
(`model(input_ids=..., past_key_values=...)`) with the prompt alone in its cache. Alternated `--reps` times; medians.
Explains why the two-stage read's 64-token evidence cannot fall much below 64 x this floor, whatever N.

    .venv/bin/python benchmarks/diagnostics/decode_floor.py [--reps 4] [--tokens 64]
"""
import argparse, json, time
import numpy as np, torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.evidence import encode_evidence
from zrag.read import memory_kv, compose, read_generate
from zrag.write import WriteConfig, DocMemory


@torch.no_grad()
def plain_loop(bb, prompt, tokens):
    "Seconds of `tokens` greedy steps of the plain model after its prompt (the prompt's forward not counted)."
    o = bb.model(input_ids=torch.tensor([prompt]), use_cache=True)
    pkv, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
    t0 = time.time()
    for _ in range(tokens):
        o = bb.model(input_ids=nxt, past_key_values=pkv, use_cache=True, logits_to_keep=1)
        nxt = o.logits[:, -1:].argmax(-1)
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--reps', type=int, default=4)
    ap.add_argument('--tokens', type=int, default=64)
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
    print(json.dumps({'ms_per_token': out, 'reps': a.reps, 'threads': torch.get_num_threads()}))


if __name__ == '__main__': main()
