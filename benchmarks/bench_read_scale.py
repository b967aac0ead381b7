"""Phase 4: the two-stage read (`zrag.scale`) against today's full read (`zrag.kv`) at N = 2,000, 10,000 and
100,000 memories, bundled SmolLM2-135M, fp32, memories of the default shape (16 x 256), on this machine's cores.

Each (N, mode) runs in a process of its own, so that its peak RSS (the kernel's ru_maxrss: the backbone, the stored
memories and everything the read allocates) is its own. The memories are untrained (random z): a read's cost does not
depend on what they hold. The routing keys of the first `--real-keys` documents are computed by the frozen model, to
time a key (computed once, when a document is written); the rest are random unit vectors, which cost the same to
score. The full read is run where its cache fits in memory (N <= `--full-max`); its cache is built once and not timed
per query, as in `bench_kv.py`.

Per mode and N: the time to the first evidence token (TTFT; the two-stage one counts the question's features, the
scores of all N keys, the top-k and the recomputation of k memories from z with a cold cache), the latency of a
64-token evidence (median of the same 3 questions in both modes), peak RSS, bytes stored per document, and the
ratios full / two-stage. The two-stage evidence is timed twice: cold (its k memories recomputed from z, as for a
question whose documents were not read recently) and warm (kept in the cache, as the full read's prebuilt cache
always is).

    .venv/bin/python benchmarks/bench_read_scale.py [--sizes 2000 10000 100000] [--top-k 8] [--compile] \
        [--save [FILE]]

The last line printed is a JSON object with those figures per N; `--save` also writes it to FILE (alone: to
`benchmarks/results/scale_latency.json`; never inside a run folder). The comparison report draws it when given its
path: `zrag compare -f PARAMS -p scale_latency_file FILE`.
"""
import argparse, json, resource, subprocess, sys, time
import numpy as np, torch
from torch import nn
from diagnostics.run_args import save_option, save_json

QUESTIONS = ['Which river flows through the capital of the country where Ada Venn was born?',
             'Who designed the bridge that opened in the same year as the first museum of the city?',
             'What instrument did the composer of the opera about the lighthouse keeper play?',
             'In which decade was the university that the author of the novel attended founded?',
             'Which team did the coach of the national side play for before he retired?']


def memory(n, hidden):
    "A DocMemory of `n` untrained documents, z filled in place (no temporary copy of an N x 16 x 256 tensor)."
    from zrag.write import WriteConfig, DocMemory
    cfg = WriteConfig()
    mem = DocMemory(1, cfg, hidden, seed=0)
    z = torch.empty(n, cfg.m_tokens, cfg.z_dim)
    z.normal_(0, cfg.z_init_std, generator=torch.Generator().manual_seed(0))
    mem.z = nn.Parameter(z, requires_grad=False)
    return mem.eval().requires_grad_(False)


def child_two_stage(bb, n, a):
    "TTFT, 64-token latency and per-key cost of the two-stage read over `n` memories."
    from zrag.route import Router
    from zrag.kv import KVCache
    from zrag.scale import TwoStageReader, routing_keys, two_stage_read
    from zrag.evidence import encode_evidence
    mem = memory(n, bb.hidden_size)
    router = Router(bb.hidden_size, bb.hidden_size, 128).eval().requires_grad_(False)
    router.layer, router.max_tokens = bb.model.config.num_hidden_layers, 64
    r = TwoStageReader(bb, bb.model, mem, router, torch.zeros(0, 128), None, a.top_k)
    r.cache = KVCache(bb.model, r.prefixes, int(a.cache_mb * 2**20))
    real = min(n, a.real_keys)
    t0 = time.time()
    keys = routing_keys(bb.model, router, r.prefixes, list(range(real)))                     # [real, 128]
    key_s = (time.time() - t0) / real
    rest = nn.functional.normalize(torch.randn(n - real, 128, generator=torch.Generator().manual_seed(1)), dim=-1)
    r.keys = torch.cat([keys, rest])                                                         # [N, 128]
    prompts = [encode_evidence(bb.tokenizer, q)[0] for q in QUESTIONS]
    two_stage_read(r, 'warm-up', prompts[0], warm_up_tokens(a))                              # one-time set-up costs
    def read(q, p, tokens, cold):
        if cold: r.cache.clear()                                # the k documents recomputed from z
        return two_stage_read(r, q, p, tokens)
    first = [read(q, p, 1, cold=True) for q, p in zip(QUESTIONS, prompts)]
    cold = [read(q, p, a.new_tokens, cold=True) for q, p in zip(QUESTIONS[:3], prompts[:3])]
    warm = [read(q, p, a.new_tokens, cold=False) for q, p in zip(QUESTIONS[:3], prompts[:3])]   # kept just above
    return {'ttft': float(np.median([x['ttft'] for x in first])),
            'select_s': float(np.median([x['select_seconds'] for x in first])),
            'evidence_s': float(np.median([x['seconds'] for x in cold])),
            'evidence_warm_s': float(np.median([x['seconds'] for x in warm])), 'tokens': len(cold[0]['ids']),
            'bytes_per_doc': r.bytes_per_doc, 'key_ms_per_doc': key_s * 1000, 'misses': r.cache.misses,
            'hits': r.cache.hits}


def child_full(bb, n, a):
    "TTFT and 64-token latency of today's full read over `n` memories, its cache built once."
    from zrag.kv import memory_kv, compose, read_generate
    from zrag.evidence import encode_evidence
    mem = memory(n, bb.hidden_size)
    prompts = [encode_evidence(bb.tokenizer, q)[0] for q in QUESTIONS]
    t0 = time.time()
    with torch.no_grad(): kv = memory_kv(bb.model, mem.prefix(torch.arange(n)))
    build_s = time.time() - t0
    cache = compose(kv, room=max(map(len, prompts)) + a.new_tokens + 1)
    read_generate(bb.model, cache, bb.embed, prompts[0], warm_up_tokens(a))                  # warm-up
    ttft = float(np.median([read_generate(bb.model, cache, bb.embed, p, 1)['ttft'] for p in prompts[:3]]))
    full = [read_generate(bb.model, cache, bb.embed, p, a.new_tokens) for p in prompts[:3]]
    z = mem.z[0].numel() * 4
    return {'ttft': ttft, 'evidence_s': float(np.median([r['seconds'] for r in full])), 'tokens': len(full[0]['ids']),
            'build_s': build_s, 'bytes_per_doc': z + kv.nbytes // n}


def warm_up_tokens(a):
    "A compiled model meets every shape of a read once before anything is timed."
    return a.new_tokens if a.compile else 2


def child(a):
    from zrag.backbone import load_backbone, BackboneConfig
    bb = load_backbone(BackboneConfig())
    if a.compile: bb.model.forward = torch.compile(bb.model.forward, dynamic=True)   # both modes, the same reader
    out = (child_two_stage if a.child == 'two_stage' else child_full)(bb, a.n, a)
    out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(mode, n, a):
    cmd = [sys.executable, __file__, '--child', mode, '--n', str(n), '--top-k', str(a.top_k), '--cache-mb',
           str(a.cache_mb), '--new-tokens', str(a.new_tokens), '--real-keys', str(a.real_keys)] + \
        (['--compile'] if a.compile else [])
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode: sys.exit(f"{mode} at N = {n} failed:\n{p.stderr[-3000:]}")
    print(f"  {mode:9s} N = {n:>7,}: {time.time() - t0:.0f} s", file=sys.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def table(res, a):
    print(f"\ntwo-stage read: top {a.top_k} documents, cache {a.cache_mb:g} MB (emptied before each TTFT), "
          f"{a.new_tokens}-token evidence, torch threads {torch.get_num_threads()}"
          f"{', model forward compiled' if a.compile else ''}")
    print(f'\n| N | mode | TTFT s | {a.new_tokens}-token evidence s: cold, warm | peak RSS MB | bytes / doc | '
          'TTFT ratio | evidence ratio: cold, warm |')
    print('|---|---|---|---|---|---|---|---|')
    for n, r in res.items():
        for mode in ('full', 'two_stage'):
            if mode not in r: continue
            x, ratios = r[mode], ['', '']
            ev = f"{x['evidence_s']:.2f}" + (f", {x['evidence_warm_s']:.2f}" if mode == 'two_stage' else '')
            if mode == 'two_stage' and 'full' in r:
                f = r['full']
                ratios = [f"{f['ttft'] / x['ttft']:.1f}x",
                          f"{f['evidence_s'] / x['evidence_s']:.1f}x, {f['evidence_s'] / x['evidence_warm_s']:.1f}x"]
            print(f"| {int(n):,} | {mode} | {x['ttft']:.3f} | {ev} | {x['peak_rss_mb']:,.0f} | "
                  f"{x['bytes_per_doc']:,} | {ratios[0]} | {ratios[1]} |")


def targets(res):
    big, mid = res.get('100000', {}).get('two_stage'), res.get('10000', {})
    out = {}
    if big:
        out['ttft_100k_under_1s'] = big['ttft'] < 1
        out['rss_100k_under_8gb'] = big['peak_rss_mb'] < 8192
    if 'full' in mid:
        for k, kind in (('evidence_s', 'cold'), ('evidence_warm_s', 'warm')):
            out[f'evidence_10k_10x_{kind}'] = mid['full']['evidence_s'] / mid['two_stage'][k] >= 10
    for k, v in out.items(): print(f"target {k}: {'PASS' if v else 'FAIL'}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', type=int, nargs='+', default=[2000, 10000, 100000])
    ap.add_argument('--top-k', type=int, default=8)
    ap.add_argument('--cache-mb', type=float, default=512)
    ap.add_argument('--new-tokens', type=int, default=64)
    ap.add_argument('--real-keys', type=int, default=256, help='documents whose routing keys the model computes')
    ap.add_argument('--full-max', type=int, default=10000, help='largest N at which the full read is run')
    ap.add_argument('--compile', action='store_true',
                    help="both modes with the model's forward compiled (torch.compile, dynamic shapes; compiling and "
                         "a first read of every shape happen before anything is timed)")
    save_option(ap, 'scale_latency.json')
    ap.add_argument('--child', choices=['two_stage', 'full'], help=argparse.SUPPRESS)
    ap.add_argument('--n', type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: return child(a)
    res = {}
    for n in sorted(a.sizes):
        res[str(n)] = {'two_stage': run_child('two_stage', n, a)}
        if n <= a.full_max: res[str(n)]['full'] = run_child('full', n, a)
    table(res, a)
    out = {'top_k': a.top_k, 'cache_mb': a.cache_mb, 'new_tokens': a.new_tokens, 'compile': a.compile, 'sizes': res,
           'targets': targets(res)}
    save_json(a.save, out)
    print(json.dumps(out))


if __name__ == '__main__': main()
