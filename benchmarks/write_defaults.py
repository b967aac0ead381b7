"""How the write phase's defaults were chosen: train the write phase on the first N bundled documents under each
given setting and print identification (top-1: each document has its lowest NLL under its own z) and margins.

    .venv/bin/python benchmarks/write_defaults.py --docs 8 --epochs 15 \\
        '{"lr_z": 0.01}' '{"lr_z": 0.1}' '{"lr_z": 0.1, "token_dropout": 0.9}'

Each setting is a JSON object of write parameters; NLL is the mean over the first --eval-tokens tokens, in eval
mode (no token dropout). Results are printed one JSON line per setting."""
import argparse, json, tempfile, time
from zrag.backbone import load_backbone, BackboneConfig
from zrag.data import load_corpus, CorpusConfig
from zrag.write import WriteConfig, WriteTrainer, generate_from_z
from zrag.probes import nll_matrix, confusion_metrics


def identification(bb, memory, seqs, eval_tokens):
    "A1 on these documents (zrag.probes): top-1 share and margins."
    m = confusion_metrics(nll_matrix(bb, memory, seqs, eval_tokens), k_worst=0)
    return {'top1': f"{round(m['top1'] * m['n'])}/{m['n']}", 'margin_mean': round(m['margin']['mean'], 3),
            'margin_min': round(m['margin']['min'], 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('settings', nargs='+')
    ap.add_argument('--docs', type=int, default=8)
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--eval-tokens', type=int, default=64)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    bb = load_backbone(BackboneConfig())
    docs = load_corpus(CorpusConfig(), seed=a.seed).documents[:a.docs]
    for spec in a.settings:
        kw = {'epochs': a.epochs, **json.loads(spec)}
        with tempfile.TemporaryDirectory() as d:
            tr = WriteTrainer(bb, docs, WriteConfig(**kw), d, seed=a.seed)
            t0 = time.time(); hist = tr.fit(resume=False, progress=False); sec = time.time() - t0
            res = identification(bb, tr.memory, tr.seqs, a.eval_tokens)
            print(json.dumps({**kw, 'docs': len(docs), 'final_loss': round(hist[-1]['loss'], 3),
                              'train_s': round(sec, 1), **res,
                              'z0_greedy': generate_from_z(bb, tr.memory, [0], max_new_tokens=20)[0]}), flush=True)


if __name__ == '__main__':
    main()
