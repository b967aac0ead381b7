("Phase 4 on the real bundled model: the two-stage read with every document selected is the full read; a document "
 "added later is read like the others; the read stage's two-stage rows; the benchmark runs.")
import json, subprocess, sys
import pytest, torch
from zrag.core import read_jsonl
from zrag.kv import memory_kv, compose, read_forward
from zrag.read import TWO_STAGE_FILE
from zrag.route import Router
from zrag.scale import two_stage_reader, add_documents, routing_keys
from zrag.stages import META_DIR, stage_dir
from zrag.write import WriteConfig, DocMemory, encode_docs, write_new_documents
from conftest import ROOT

pytestmark = pytest.mark.integration


def _reader(smollm, n, top_k, cache_mb=0):
    mem = DocMemory(n, WriteConfig(), smollm.hidden_size, seed=2).eval().requires_grad_(False)
    router = Router(smollm.hidden_size, smollm.hidden_size, 128).eval().requires_grad_(False)
    router.layer, router.max_tokens = 15, 64
    return two_stage_reader(smollm, smollm.model, mem, router, top_k, cache_mb)


def test_top_n_is_the_full_read(smollm):
    "k = N, nothing compressed: the same logits as the full read, from recomputed and from cached keys and values."
    r = _reader(smollm, 5, top_k=5, cache_mb=64)
    q = 'Question: where is the tower?\nEvidence:'
    idx = r.scores([q])[0].topk(5).indices.sort().values.tolist()
    assert idx == list(range(5))
    x = smollm.embed(torch.tensor([smollm.tokenizer(q)['input_ids']]))
    with torch.no_grad():
        full = read_forward(smollm.model, compose(memory_kv(smollm.model, r.prefixes(idx))), x).logits
        for _ in range(2):                                               # recomputed, then read from the cache
            got = read_forward(smollm.model, compose(r.cache.get(idx)), x).logits
            assert (got - full).abs().max() < 1e-3
    assert r.cache.hits == 5 and r.cache.misses == 5


def test_cache_stays_in_budget(smollm):
    r = _reader(smollm, 6, top_k=2, cache_mb=0)
    per_doc = memory_kv(smollm.model, r.prefixes([0])).nbytes
    r.cache.budget = 3 * per_doc
    for idx in ([0, 1], [2, 3], [4, 5], [0, 5]):
        kv = r.cache.get(idx)
        assert kv.n_docs == 2 and r.cache.nbytes <= r.cache.budget
    assert set(r.cache.docs) == {4, 5, 0}                                # the least recently read went first


def test_added_document_is_read_like_the_others(smollm):
    "Written with the projection frozen, its key appended: keys of the old documents unchanged, the new one selectable."
    r = _reader(smollm, 4, top_k=5)
    keys_before = r.keys.clone()
    ids = encode_docs(smollm.tokenizer, ['The Lumen Bridge crosses the river Aster in Velmora.'])
    mem, losses = write_new_documents(smollm, r.memory, ids, steps=5, lr=0.1)
    add_documents(r, mem)
    assert r.n_docs == 5 and torch.equal(r.keys[:4], keys_before)
    fresh = routing_keys(smollm.model, r.router, r.prefixes, [4])
    assert (r.keys[4] - fresh[0]).abs().max() < 1e-5
    assert 4 in r.scores(['the Lumen Bridge'])[0].topk(5).indices.tolist()


def test_read_stage_two_stage_rows(pipeline):
    "The smoke pipeline reads the test questions in both modes; the comparison has a row per mode."
    rd = stage_dir(pipeline, 'read')
    rm = json.loads((rd / 'read_metrics.json').read_text())
    ts = rm['two_stage']
    assert ts['n_test'] == rm['n_test'] and ts['read_top_k'] == 4 and ts['n_docs'] == rm['n_docs']
    assert 0 <= ts['stage1']['recall@4'] <= 1 and ts['bytes_per_doc'] == 4 * 32 * 4 + 128 * 4   # smoke: m 4, z_dim 32
    recs = read_jsonl(rd / TWO_STAGE_FILE)
    assert all(len(r['selected']) == 4 and len(r['ranked']) == rm['n_docs'] for r in recs)
    c = json.loads((stage_dir(pipeline, 'compare') / 'comparison.json').read_text())
    assert c['methods']['zrag_read_two_stage']['available']
    assert c['methods']['zrag_read_two_stage']['retrieval']['recall@2'] == pytest.approx(ts['stage1']['recall@2'])


@pytest.mark.slow
def test_bench_read_scale_runs(tmp_path):
    "The benchmark at toy sizes: both modes, the figures and the JSON line."
    p = subprocess.run([sys.executable, 'benchmarks/bench_read_scale.py', '--sizes', '40', '--full-max', '40',
                        '--real-keys', '4', '--new-tokens', '3', '--save', tmp_path / 's.json'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    two = out['sizes']['40']['two_stage']
    assert set(out['sizes']['40']) == {'full', 'two_stage'} and two['tokens'] == 3 and two['evidence_warm_s'] > 0
    assert json.loads((tmp_path / 's.json').read_text()) == out


def test_a_benchmark_never_writes_into_a_run(tmp_path):
    "`--save` into a run folder is refused when the arguments are parsed, before anything is measured."
    (tmp_path / META_DIR).mkdir()
    p = subprocess.run([sys.executable, 'benchmarks/bench_read_scale.py', '--save',
                        stage_dir(tmp_path, 'read') / 'scale_latency.json'],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and 'a benchmark never writes into a run' in p.stderr, p.stderr[-2000:]
    assert not stage_dir(tmp_path, 'read').exists()


def test_a_router_with_recitation_keys_is_refused_by_the_two_stage_read():
    "Phase 4 keys memories by their soft tokens; a router trained on recitation keys would be read wrongly: refused."
    from types import SimpleNamespace
    from zrag.core import ZragError
    with pytest.raises(ZragError, match='route_keys memory'):
        routing_keys(None, SimpleNamespace(recited=['a recitation'], layer=1), None, [0])
