"""The full read's memory cache build: how much memory it adds to the process. `zrag.kv.memory_kv` (filled in
place) against the reference it replaced (every batch kept, then concatenated), each in a fresh process so that
ru_maxrss is its own; N untrained memories on the bundled model. Prints both, their ratio, and whether the keys and
values are the same to the bit; the last line is JSON.

    .venv/bin/python benchmarks/diagnostics/kv_build_peak.py [--n 2000]
"""
import sys, json, time, argparse, resource, subprocess
import torch


def concat_build(model, prefixes, batch_size=64):
    "The reference: memory_kv as it was before 2026-12-01 (a list of batches, then torch.cat)."
    ks, vs = [], []
    for s in range(0, len(prefixes), batch_size):
        pkv = model(inputs_embeds=prefixes[s:s + batch_size], use_cache=True, logits_to_keep=1).cache
        ks.append(torch.stack([l.keys for l in pkv.layers])); vs.append(torch.stack([l.values for l in pkv.layers]))
    return torch.cat(ks, 1), torch.cat(vs, 1)


@torch.no_grad()
def one(mode, n):
    "Build the cache of `n` memories with `mode` in this process; return its figures."
    from zrag.backbone import load_backbone, BackboneConfig
    from zrag.write import WriteConfig, DocMemory
    from zrag.kv import memory_kv
    bb = load_backbone(BackboneConfig())
    prefixes = DocMemory(n, WriteConfig(), bb.hidden_size, seed=0).eval().prefix(torch.arange(n)).to(bb.dtype)
    before, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, time.time()
    if mode == 'inplace': kv = memory_kv(bb.model, prefixes, 64); k, v = kv.keys, kv.values
    else: k, v = concat_build(bb.model, prefixes, 64)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {'mode': mode, 'n': n, 'cache_gib': 2 * k.numel() * k.element_size() / 2**30, 'added_gib': after - before,
            'seconds': time.time() - t0, 'checksum': [k.double().sum().item(), v.double().sum().item()]}


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=2000); ap.add_argument('--mode')
    a = ap.parse_args()
    if a.mode: print(json.dumps(one(a.mode, a.n))); return
    res = {}
    for mode in ('concat', 'inplace'):
        out = subprocess.run([sys.executable, __file__, '--n', str(a.n), '--mode', mode], capture_output=True,
                             text=True, check=True).stdout.strip().splitlines()[-1]
        res[mode] = json.loads(out)
        r = res[mode]
        print(f"{mode:8s} N {a.n}: cache {r['cache_gib']:.2f} GiB, the build adds {r['added_gib']:.2f} GiB "
              f"to the process, {r['seconds']:.1f} s")
    same = res['concat']['checksum'] == res['inplace']['checksum']
    ratio = res['inplace']['added_gib'] / res['concat']['added_gib']
    print(f"in place / concatenated: {ratio:.2f}x the memory added; same keys and values: {same}")
    print(json.dumps({'n': a.n, 'ratio': ratio, 'same': same, **res}))


if __name__ == '__main__':
    main()
