"""Why does the write-integration fixture's memory not recite document 0? A diagnostic, not a timing: it trains the
fixture of `tests/test_write_integration.py` (the 4 shortest bundled documents, its settings), then per document
prints the teacher-forced accuracy and the NLL of the first tokens, and checks that `generate_from_z` (transformers'
`generate()` from `inputs_embeds`) gives the same text as a hand-written greedy loop with the KV cache and without
it. About 2 minutes on 2 CPU cores.

    .venv/bin/python benchmarks/diagnostics/recitation_probe.py
"""
import tempfile
import torch
import torch.nn.functional as F
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, WriteTrainer, generate_from_z

# The settings of the fixture `trained` in tests/test_write_integration.py (measured to converge on these 4 documents);
# a copy, so that a benchmark never imports the tests: change both together.
CFG = dict(m_tokens=16, z_dim=256, batch_size=4, epochs=60, lr_z=0.2, lr_proj=0.01, loss_target=0.5, token_dropout=0.0)


@torch.no_grad()
def greedy(bb, mem, i, n, cache=True):
    "Greedy text from memory `i`, by hand: with the KV cache, or recomputing the whole sequence each step."
    pre, ids = mem.prefix(torch.tensor([i])).to(bb.dtype), []              # [1, m, H]
    out = bb.model(inputs_embeds=pre, use_cache=cache)
    nxt = out.logits[:, -1].argmax(-1)
    for _ in range(n):
        ids.append(int(nxt))
        if ids[-1] == bb.eos_id: break
        if cache: out = bb.model(input_ids=nxt[:, None], cache=out.cache, use_cache=True)
        else: out = bb.model(inputs_embeds=torch.cat([pre, bb.embed(torch.tensor([ids]))], 1))
        nxt = out.logits[:, -1].argmax(-1)
    return bb.tokenizer.decode(ids, skip_special_tokens=True).strip()


def main():
    bb = load_backbone(BackboneConfig())
    docs = load_corpus(CorpusConfig(), seed=0).documents
    docs = sorted(docs, key=lambda d: len(bb.tokenizer(d.text)['input_ids']))[:4]
    tr = WriteTrainer(bb, docs, WriteConfig(**CFG), tempfile.mkdtemp(), seed=0)
    tr.fit(progress=False)
    print('last losses', [round(h['loss'], 3) for h in tr.history[-5:]], 'epochs', len(tr.history))
    mem, m = tr.memory.eval(), CFG['m_tokens']
    for i in range(4):
        ids = torch.tensor([tr.seqs[i]])                                     # [1, T]
        with torch.no_grad():
            x = torch.cat([mem.prefix(torch.tensor([i])), bb.embed(ids[:, :-1])], 1)   # [1, m+T-1, H]
            lg = bb.model(inputs_embeds=x).logits[0, m - 1:]                 # [T, V]: row t predicts token t
        nll = F.cross_entropy(lg, ids[0], reduction='none')
        acc = (lg.argmax(-1) == ids[0]).float()
        gen = generate_from_z(bb, mem, [i], max_new_tokens=20)[0]
        same = gen == greedy(bb, mem, i, 20) == greedy(bb, mem, i, 20, cache=False)
        print(f"doc {i}: teacher-forced accuracy {acc.mean():.2f}, NLL of the first 5 tokens "
              f"{[round(v, 2) for v in nll[:5].tolist()]}, generate() == hand-written loops: {same}")
        print(f"  generated: {gen[:80]!r}\n  document:  {docs[i].text[:80]!r}")


if __name__ == '__main__': main()
