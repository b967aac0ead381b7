"""How many of a corpus's links are a question's gold pair? The second hop trains on links (`zrag.route.link_items`),
so a corpus whose links nearly are the questions' pairs flatters it.

    .venv/bin/python benchmarks/diagnostics/link_counts.py --params params/hotpotqa_route.yaml   # a run's corpus
    .venv/bin/python benchmarks/diagnostics/link_counts.py --questions 300 [--distractors 2]     # route_hotpotqa.py's

Prints the documents, questions, directed links (and those inside a question's pair), undirected links (and those
that are a question's pair), as one JSON line. Nothing is trained.
"""
import argparse, json, runpy
from pathlib import Path
from zrag.data import load_corpus
from zrag.params import load_params
from zrag.route import link_items

HERE = Path(__file__).resolve().parent


def counts(corpus):
    idx = corpus.index()
    directed = {(a, b) for _, a, b in link_items(corpus.documents)}
    undirected = {frozenset(x) for x in directed}
    pairs = {frozenset(idx[g] for g in q.gold_ids) for q in corpus.questions}
    return {'documents': len(corpus.documents), 'questions': len(corpus.questions), 'directed': len(directed),
            'directed_in_pairs': sum(frozenset(x) in pairs for x in directed), 'undirected': len(undirected),
            'question_pairs': len(undirected & pairs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--params', help="a params file: the corpus its run builds")
    ap.add_argument('--file', default='../shared/data/hotpotqa/dev_distractor_300.jsonl')
    ap.add_argument('--questions', type=int, default=300)
    ap.add_argument('--distractors', type=int, default=0)
    a = ap.parse_args()
    if a.params:
        p = load_params(a.params)
        corpus = load_corpus(p.corpus, seed=p.run.seed)
    else:
        corpus = runpy.run_path(str(HERE.parent / 'route_hotpotqa.py'))['corpus_of'](a.file, a.questions, a.distractors)
    print(json.dumps(counts(corpus)))


if __name__ == '__main__': main()
