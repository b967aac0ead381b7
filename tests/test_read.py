("The read phase on the real bundled model: cache equivalence, rewinding, adding a document; "
 "the read stage's outputs and resume.")
import json
import numpy as np, pytest, torch
from zrag.core import read_jsonl
from zrag.stages import stage_dir
from conftest import pipeline_args, check_resume_equals_uninterrupted
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, DocMemory, WriteTrainer, encode_docs, write_new_document
from zrag.kv import memory_kv, compose, read_forward, reference_forward, rewind
from zrag.probes import nll_matrix

pytestmark = pytest.mark.integration


def test_cache_equals_full_forward(smollm):
    mem = DocMemory(3, WriteConfig(), smollm.hidden_size, seed=1).eval()
    with torch.no_grad(): pre = mem.prefix(torch.arange(3))                  # [3, 16, H]
    kv = memory_kv(smollm.model, pre)
    q = smollm.embed(torch.tensor([smollm.tokenizer('Question: where is it?\nEvidence:')['input_ids']]))
    with torch.no_grad():
        one = read_forward(smollm.model, compose(kv.select([1])), q).logits
        full = smollm.model(inputs_embeds=torch.cat([pre[1:2], q], 1)).logits[:, 16:]
        assert (one - full).abs().max() < 1e-3                                # one document: the ordinary forward
        cache = compose(kv)
        got = read_forward(smollm.model, cache, q).logits
        assert (got - reference_forward(smollm.model, pre, q)).abs().max() < 1e-3   # three: the block-diagonal forward
        rewind(cache); assert torch.equal(read_forward(smollm.model, cache, q).logits, got)


def test_adding_a_document_keeps_the_old_ones(smollm, tmp_path):
    docs = load_corpus(CorpusConfig(), seed=0).documents
    cfg = WriteConfig(m_tokens=8, z_dim=64, proj_hidden=128, epochs=8, batch_size=4)
    tr = WriteTrainer(smollm, docs[:4], cfg, tmp_path, seed=0)
    tr.fit(progress=False)
    mem = tr.memory.eval()
    seqs = encode_docs(smollm.tokenizer, [d.text for d in docs[:5]])
    before = nll_matrix(smollm, mem, seqs[:4], 24)
    new, loss = write_new_document(smollm, mem, seqs[4], steps=40, lr=0.1)
    after = nll_matrix(smollm, new, seqs, 24, z_idx=list(range(5)))          # [5 documents, 5 memories]
    assert np.abs(after[:4, :4] - before).max() < 1e-4                        # the old memories read exactly as before
    top1 = lambda m, n: float(np.mean([m[i].argmin() == i for i in range(n)]))
    assert top1(after[:4], 4) >= top1(before, 4)                              # the new z takes no old document
    assert after[4].argmin() == 4                                            # and it identifies its own document
    with torch.no_grad(): kv = memory_kv(smollm.model, mem.prefix(torch.arange(4)))
    with torch.no_grad(): kv5 = kv.add(memory_kv(smollm.model, new.prefix(torch.tensor([4]))))
    with torch.no_grad(): ref = memory_kv(smollm.model, new.prefix(torch.arange(5)))
    assert (kv5.keys - ref.keys).abs().max() < 1e-4                           # injected: as if computed with the others


def test_read_outputs(pipeline):
    rd = stage_dir(pipeline, 'read')
    rm = json.loads((rd / 'read_metrics.json').read_text())
    c = json.loads((stage_dir(pipeline, 'compare') / 'comparison.json').read_text())
    assert rm['memory_unchanged'] and rm['n_test'] == c['n_test']
    assert rm['routing']['mrr'] == c['methods']['zrag_read']['retrieval']['mrr']
    assert {r['pool_size'] for r in rm['curve']} == {2, 10}
    assert set(rm['routing_controls']) == {'prior', 'chance', 'profile_correlation'}
    assert 'mrr' in rm['routing_controls']['prior']
    gens = read_jsonl(rd / 'generations.jsonl')
    assert len(gens) == rm['n_test'] and all(sorted(g['ranked']) == list(range(rm['n_docs'])) for g in gens)
    # the routing loss and the pool curriculum were on: each step logs both losses
    log = read_jsonl(rd / 'train_log.jsonl')
    assert rm['read_route_loss'] == 0.5 and rm['read_pool_schedule'] == [4, 0]
    assert all(np.isfinite(r['route_loss']) and r['route_loss'] >= 0 for r in log)


def test_read_resumes_exactly(pipeline_copy, cli):
    "Run again, the read stage trains nothing and evaluates the same; a resumed run equals an uninterrupted one."
    rd = stage_dir(pipeline_copy / 'smoke', 'read')
    rm = json.loads((rd / 'read_metrics.json').read_text())
    n_rlog = len(read_jsonl(rd / 'train_log.jsonl'))
    r = cli(*pipeline_args(pipeline_copy, cmd='read'))
    assert r.returncode == 0, r.stderr[-3000:]
    rm2 = json.loads((rd / 'read_metrics.json').read_text())
    assert len(read_jsonl(rd / 'train_log.jsonl')) == n_rlog
    assert rm2['history'] == rm['history'] and rm2['routing'] == rm['routing']
    check_resume_equals_uninterrupted(pipeline_copy, 'read', 'read_epochs', 'read_metrics.json')
    r = cli(*pipeline_args(pipeline_copy, '-p', 'read_lr', '0.5', cmd='read'))
    assert r.returncode == 2 and 'other read settings' in r.stderr and '-p resume false' in r.stderr
