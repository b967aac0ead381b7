"""Write-phase training throughput: the batched, length-bucketed trainer against a reference loop that trains one
document at a time, padded to the longest document (the seed system's way). Same documents, same model, one run.

    .venv/bin/python benchmarks/bench_write.py [--docs 16] [--steps-per-doc 2] [--batch-size 8]

Prints tokens/s (real document tokens, padding excluded) of each and the ratio, last."""
import argparse, time, tempfile
import torch
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, WriteTrainer, DocMemory, doc_nll, pad_batch


def reference(bb, seqs, cfg, epochs):
    "One document per step, padded to the longest document of the corpus."
    mem = DocMemory(len(seqs), cfg, bb.hidden_size)
    opt = torch.optim.AdamW(mem.parameters(), lr=cfg.lr_z)
    T = max(len(s) for s in seqs)
    pad = bb.tokenizer.pad_token_id
    real = 0
    t0 = time.time()
    for e in range(epochs):
        for i, s in enumerate(seqs):
            ids, mask = pad_batch([s + [pad] * (T - len(s))], pad)
            mask[0, len(s):] = 0
            nll = doc_nll(bb, mem.prefix(torch.tensor([i])), ids, mask)
            opt.zero_grad(); nll.mean().backward(); opt.step()
            real += len(s)
    return real / (time.time() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--docs', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=8)
    a = ap.parse_args()
    torch.manual_seed(0)
    bb = load_backbone(BackboneConfig())
    docs = load_corpus(CorpusConfig(), seed=0).documents[:a.docs]
    cfg = WriteConfig(batch_size=a.batch_size, epochs=a.epochs)
    with tempfile.TemporaryDirectory() as d:
        tr = WriteTrainer(bb, docs, cfg, d)
        tr.step(list(range(min(a.batch_size, len(docs)))), torch.Generator())   # warm-up, not timed
        t0 = time.time(); hist = tr.fit(resume=False, progress=False); sec = time.time() - t0
        ntok = sum(len(s) for s in tr.seqs) * len(hist)
        ours = ntok / sec
    ref = reference(bb, tr.seqs, cfg, a.epochs)
    print(f"documents: {len(docs)}, lengths {min(map(len, tr.seqs))}-{max(map(len, tr.seqs))} tokens, "
          f"epochs: {a.epochs}, threads: {torch.get_num_threads()}")
    print(f"reference (1 document/step, padded to longest): {ref:8.1f} tokens/s")
    print(f"zrag trainer (batch {a.batch_size}, length-bucketed):  {ours:8.1f} tokens/s")
    print(f"ratio zrag/reference: {ours / ref:.2f}x")


if __name__ == '__main__':
    main()
