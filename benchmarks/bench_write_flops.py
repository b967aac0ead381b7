"""The write's arithmetic rate as a share of this machine's matrix-multiply rate, both measured in one run.

    .venv/bin/python benchmarks/bench_write_flops.py [--docs 16] [--epochs 3] [--batch-size 8]

A write step runs the frozen backbone forward and backward down to the soft tokens (no weight gradients), so each
document token costs about 4 x (the non-embedding weights + the LM head) multiply-adds x 2 FLOPs, plus attention.
The reference is torch's fp32 matrix product of the backbone's own MLP shape ([batch x tokens, hidden] @
[hidden, intermediate]) on the same threads. The share says how much of the machine the write uses; what is left
above it is what a faster write could still win. Prints both rates and the share, last."""
import argparse, statistics, tempfile, time
from pathlib import Path
import torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, WriteTrainer


def matmul_gflops(m, k, n, reps=20):
    "Median GFLOP/s of an fp32 [m, k] @ [k, n] product."
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3): a @ b                                         # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * m * k * n / sorted(times)[len(times) // 2] / 1e9


def flops_per_token(model, mean_len):
    "Forward + backward to the inputs, per token: 2 FLOPs per multiply-add, twice (forward, input gradients)."
    cfg = model.config
    emb = model.get_input_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - emb         # the decoder layers (the embedding is a lookup)
    head = cfg.hidden_size * cfg.vocab_size                         # the LM head (tied to the embedding here)
    attn = 2 * cfg.num_hidden_layers * mean_len * cfg.hidden_size   # QK and AV, causal: half the positions on average
    return 2 * 2 * (body + head + attn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--docs', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=8)
    a = ap.parse_args()
    bb = load_backbone(BackboneConfig())
    docs = load_corpus(CorpusConfig(), seed=0).documents[:a.docs]
    cfg = WriteConfig(epochs=a.epochs, batch_size=a.batch_size)
    tr = WriteTrainer(bb, docs, cfg, Path(tempfile.mkdtemp()), seed=0)
    hist = tr.fit(progress=False)
    tok_s = statistics.median(h['tokens_per_s'] for h in hist[1:] or hist)   # document tokens; epoch 1 warms up
    doc_len = sum(len(s) for s in tr.seqs) / len(tr.seqs)
    mean_len = doc_len + cfg.m_tokens                               # positions per document: memory + text
    per_tok = flops_per_token(bb.model, mean_len) * mean_len / doc_len   # the memory positions are computed too
    write_gflops = tok_s * per_tok / 1e9
    c = bb.model.config
    ref = matmul_gflops(a.batch_size * int(mean_len), c.hidden_size, c.intermediate_size)
    print(f"backbone {bb.name}: {per_tok / 1e6:.0f} MFLOP per document token (forward + input gradients, its share "
          f"of the {cfg.m_tokens} memory positions included), {doc_len:.0f} tokens per document")
    print(f"write: {tok_s:.0f} document tokens/s (median of epochs 2..{a.epochs}, batch {a.batch_size}) = "
          f"{write_gflops:.1f} GFLOP/s")
    print(f"matmul: {ref:.1f} GFLOP/s (fp32 [{a.batch_size * int(mean_len)}, {c.hidden_size}] @ "
          f"[{c.hidden_size}, {c.intermediate_size}], {torch.get_num_threads()} threads)")
    print(f"write / matmul: {write_gflops / ref:.2f}")


if __name__ == '__main__':
    main()
