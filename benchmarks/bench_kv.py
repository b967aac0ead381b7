"""Key/value injection: time to the first evidence token, per-query latency (64 evidence tokens) and peak memory at
N = 200, 1,000 and 2,000 documents, reading from the precomputed memory cache against recomputing the memory's keys and
values for each query. Bundled SmolLM2-135M, fp32, memories of the default shape (16 x 256); the memories are
untrained (random z): the cost does not depend on what they hold. The cached time to the first token is the median of
5 queries (the recompute one is a single query: it takes a minute at N = 2,000). Prints the ratios and the cache size.

    .venv/bin/python benchmarks/bench_kv.py [--sizes 200 1000 2000] [--new-tokens 64] [--attention gqa|sdpa]
"""
import argparse, os, threading, time
import numpy as np, torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.write import WriteConfig, DocMemory
from zrag.kv import memory_kv, compose, read_generate
from zrag.evidence import encode_evidence


class PeakRSS:
    "Peak resident memory of this process while the block runs (sampled every 5 ms), in MB."
    def __enter__(self):
        self.peak, self.stop = 0, False
        page = os.sysconf('SC_PAGE_SIZE')
        def loop():
            while not self.stop:
                with open('/proc/self/statm') as f: self.peak = max(self.peak, int(f.read().split()[1]) * page)
                time.sleep(0.005)
        self.t = threading.Thread(target=loop, daemon=True); self.t.start(); return self
    def __exit__(self, *a): self.stop = True; self.t.join(); self.mb = self.peak / 1e6


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--sizes', type=int, nargs='+', default=[200, 1000, 2000])
    ap.add_argument('--new-tokens', type=int, default=64)
    ap.add_argument('--attention', choices=['gqa', 'sdpa'], default='gqa',
                    help="zrag's grouped-query attention (default) or transformers' sdpa")
    a = ap.parse_args(); gqa = a.attention == 'gqa'
    bb = load_backbone(BackboneConfig())
    cfg = WriteConfig()
    mem = DocMemory(max(a.sizes), cfg, bb.hidden_size, seed=0).eval()
    with torch.no_grad(): pre = mem.prefix(torch.arange(mem.n_docs))        # [N, m, H]
    question = 'Which river flows through the capital of the country where Ada Venn was born?'
    prompt = encode_evidence(bb.tokenizer, question)[0]
    print(f"attention {a.attention}, torch threads {torch.get_num_threads()}, prompt {len(prompt)} tokens, "
          f"m = {cfg.m_tokens}, {a.new_tokens} evidence tokens")
    rows = []
    for n in sorted(a.sizes):
        # recompute: the memory's keys and values are computed for this query, then read
        with PeakRSS() as pr:
            t0 = time.time(); kv = memory_kv(bb.model, pre[:n]); t_kv = time.time() - t0
            cache = compose(kv, room=len(prompt) + a.new_tokens + 1); t_comp = time.time() - t0 - t_kv
            r = read_generate(bb.model, cache, bb.embed, prompt, a.new_tokens, gqa=gqa)
        rec_ttft, rec_full = t_kv + t_comp + r['ttft'], t_kv + t_comp + r['seconds']
        del cache
        # cached: computed once (above), composed once; each query rewinds and reads
        cache = compose(kv, room=len(prompt) + a.new_tokens + 1)
        read_generate(bb.model, cache, bb.embed, prompt, 2, gqa=gqa)                    # warm-up
        with PeakRSS() as pc:
            r2 = read_generate(bb.model, cache, bb.embed, prompt, a.new_tokens, gqa=gqa)
        ttft = float(np.median([r2['ttft']] + [read_generate(bb.model, cache, bb.embed, prompt, 1, gqa=gqa)['ttft']
                                               for _ in range(4)]))   # median of 5
        assert r2['ids'] == r['ids'], 'the cached read must write the same tokens'
        rows.append({'n': n, 'kv_s': t_kv, 'rec_ttft': rec_ttft, 'rec_full': rec_full, 'ttft': ttft,
                     'full': r2['seconds'], 'mb32': kv.nbytes / 1e6, 'mb16': kv.nbytes / 2e6, 'peak_rec': pr.mb,
                     'peak_cache': pc.mb, 'tokens': len(r2['ids'])})
        del cache, kv
    print('\n| N | KV build (once) s | TTFT recompute s | TTFT cached s | ratio | per query recompute s | '
          'per query cached s | ratio | cache fp32 MB | cache bf16 MB | peak RSS recompute / cached MB |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['n']} | {r['kv_s']:.1f} | {r['rec_ttft']:.2f} | {r['ttft']:.3f} | "
              f"{r['rec_ttft'] / r['ttft']:.0f}x | {r['rec_full']:.2f} | {r['full']:.2f} | "
              f"{r['rec_full'] / r['full']:.1f}x | {r['mb32']:.0f} | {r['mb16']:.0f} | "
              f"{r['peak_rec']:.0f} / {r['peak_cache']:.0f} |")
    big = rows[-1]
    speedup = big['rec_ttft'] / big['ttft']
    print(f"\nN = {big['n']}: time to first evidence token {big['ttft']:.3f} s with the cache "
          f"(target < 1 s: {'PASS' if big['ttft'] < 1 else 'FAIL'}), "
          f"{speedup:.0f}x faster than recomputing (target >= 30x: {'PASS' if speedup >= 30 else 'FAIL'})")


if __name__ == '__main__': main()
