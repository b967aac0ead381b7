"""A1 NLL matrix: the batched, length-bucketed computation against the one-pair-at-a-time reference, on the same
documents and memories, in one run; and the share of the machine's matmul rate that each achieves.

    .venv/bin/python benchmarks/bench_a1.py [--docs 16] [--eval-tokens 64] [--ref-pairs 64]

The reference is timed on --ref-pairs pairs (its per-pair cost does not depend on N) and checked equal (1e-4) to
the batched values. FLOPs count every matmul of the forward passes (linear layers on all positions, the LM head on the
scored positions, causal attention); the matmul rate is a 2048 x 2048 fp32 matmul timed in the same run."""
import argparse, time
import numpy as np, torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, DocMemory, encode_docs
from zrag.probes import nll_matrix, nll_pair


def matmul_rate(n=2048, reps=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2): a @ b
    t0 = time.time()
    for _ in range(reps): a @ b
    return 2 * n ** 3 * reps / (time.time() - t0)


def forward_flops(model, m, T):
    "FLOPs of one forward over m prefix + (T - 1) teacher-forced positions, logits on T positions."
    cfg = model.config
    S = m + T - 1
    body = sum(l.weight.numel() for n, l in model.named_modules()
               if isinstance(l, torch.nn.Linear) and 'lm_head' not in n)
    head = cfg.vocab_size * cfg.hidden_size
    attn = cfg.num_hidden_layers * 2 * S * S * cfg.hidden_size      # QK^T and AV, causal half of 2 * 2 * S^2 * d
    return 2 * body * S + 2 * head * T + attn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--docs', type=int, default=16)
    ap.add_argument('--eval-tokens', type=int, default=64)
    ap.add_argument('--ref-pairs', type=int, default=64)
    a = ap.parse_args()
    bb = load_backbone(BackboneConfig())
    docs = load_corpus(CorpusConfig(), seed=0).documents[:a.docs]
    seqs = [s[:a.eval_tokens] for s in encode_docs(bb.tokenizer, [d.text for d in docs])]
    mem = DocMemory(len(docs), WriteConfig(), bb.hidden_size, seed=0).eval()
    m = mem.z.shape[1]
    rate = matmul_rate()
    nll_matrix(bb, mem, seqs[:1], a.eval_tokens, z_idx=[0])                     # warm-up
    t0 = time.time(); M = nll_matrix(bb, mem, seqs, a.eval_tokens); t_b = time.time() - t0
    flops = sum(forward_flops(bb.model, m, len(s)) for s in seqs) * len(docs)
    pairs = [(i % len(docs), (i * 7) % len(docs)) for i in range(a.ref_pairs)]
    t0 = time.time(); ref = [nll_pair(bb, mem, seqs[i], j) for i, j in pairs]; t_r = (time.time() - t0) / len(pairs)
    err = max(abs(M[i, j] - r) for (i, j), r in zip(pairs, ref))
    ref_flops = np.mean([forward_flops(bb.model, m, len(seqs[i])) for i, _ in pairs])
    n2 = len(docs) ** 2
    print(f"documents: {len(docs)}, pairs: {n2}, eval tokens: {a.eval_tokens}, threads: {torch.get_num_threads()}, "
          f"max |batched - reference| = {err:.2e}")
    print(f"machine fp32 matmul rate (2048^3): {rate / 1e9:.1f} GFLOP/s")
    print(f"reference, one pair per forward: {1 / t_r:6.2f} pairs/s, {ref_flops / t_r / 1e9:6.1f} GFLOP/s = "
          f"{ref_flops / t_r / rate:.0%} of matmul rate")
    print(f"batched, length-bucketed:        {n2 / t_b:6.2f} pairs/s, {flops / t_b / 1e9:6.1f} GFLOP/s = "
          f"{flops / t_b / rate:.0%} of matmul rate")
    print(f"200 x 200 matrix at this rate: {200 * 200 / (n2 / t_b) / 60:.1f} min batched vs "
          f"{200 * 200 * t_r / 60:.1f} min reference")
    print(f"ratio batched/reference: {(n2 / t_b) * t_r:.2f}x")


if __name__ == '__main__':
    main()
