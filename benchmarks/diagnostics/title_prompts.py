"""How the LLM names titles (zrag.titles), chosen on questions that no evaluation uses: 100 HotpotQA *train* questions
and their 200 gold paragraphs (train_official_100.json). Three settings of the same beam search (5 beams):

- no examples in the prompt, titles ranked by their log-probability (the sum over their tokens);
- the two fixed examples (zrag.titles._FIRST_HOP_SHOTS / _NEXT_HOP_SHOTS), the same ranking;
- the two examples, each title's log-probability less its log-probability after a content-free prompt (zrag's
  default, `calibrate=True`).

Reported: the first hop's any@1 (a gold paragraph named first) and both gold paragraphs in the two hops' top two, the
second hop reading the first paragraph's own text. Nothing trains; the dev/demo/test corpora are not read.

    .venv/bin/python benchmarks/diagnostics/title_prompts.py --file ../shared/data/hotpotqa/train_official_100.json
"""
import argparse, json, time
import numpy as np
import zrag.titles as T
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import read_qa_file, build_corpus


def measure(bb, trie, docs, texts, golds, calibrate, second=True):
    "(any@1 of the first hop, both gold in the top two after the second hop or None, seconds)."
    t0 = time.time()
    first = T.first_hop(bb, trie, texts, 5, calibrate=calibrate)
    any1 = float(np.mean([bool(f) and f[0][0] in g for f, g in zip(first, golds)]))
    both = None
    if second:
        nxt = T.second_hop(bb, trie, texts, first, lambda d: docs[d].text, 5, calibrate=calibrate)
        both = float(np.mean([g == {f[0][0], s[0][0] if s else -1} for f, s, g in zip(first, nxt, golds)]))
    return any1, both, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--file', required=True)
    a = ap.parse_args()
    docs, questions = read_qa_file(a.file)
    corpus = build_corpus(docs, questions, n_docs=200, source=a.file)
    bb = load_backbone(BackboneConfig())
    docs, idx = corpus.documents, corpus.index()
    trie = T.TitleTrie(bb.tokenizer, [d.title for d in docs])
    texts, golds = [q.question for q in corpus.questions], [{idx[g] for g in q.gold_ids} for q in corpus.questions]
    shots = (T._FIRST_HOP_SHOTS, T._NEXT_HOP_SHOTS)
    rows = {}
    T._FIRST_HOP_SHOTS = T._NEXT_HOP_SHOTS = ''                     # hop_prompt / next_hop_prompt read them per call
    rows['no examples'] = measure(bb, trie, docs, texts, golds, False, second=False)
    T._FIRST_HOP_SHOTS, T._NEXT_HOP_SHOTS = shots
    rows['two examples'] = measure(bb, trie, docs, texts, golds, False)
    rows['two examples, calibrated (default)'] = measure(bb, trie, docs, texts, golds, True)
    print(f"{len(texts)} HotpotQA train questions, {len(docs)} gold paragraphs, backbone {bb.name}")
    for k, (a1, both, s) in rows.items():
        print(f"{k:<36} first hop any@1 {a1:.2f}   both gold in two hops' top two "
              f"{'-' if both is None else f'{both:.2f}'}   {s:.0f} s")
    print(json.dumps({k: dict(zip(('any@1', 'both_top2', 'seconds'), v)) for k, v in rows.items()}))


if __name__ == '__main__':
    main()
