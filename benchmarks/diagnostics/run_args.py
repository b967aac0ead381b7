"""What the diagnostics that read a finished run share: its params file and overrides, taken as `zrag` takes them;
and where every benchmark saves its figures: a file of the user's, never inside a run folder."""
import argparse, sys
from pathlib import Path
from zrag.core import atomic_write_json, seed_everything
from zrag.params import load_params
from zrag.stages import META_DIR

RESULTS = Path(__file__).resolve().parents[1] / 'results'     # benchmarks/results/: `--save` alone (ignored by git)


def run_parser(doc):
    "An argument parser with `-f PARAMS` and `-p KEY VALUE` (as for zrag), described by the first line of `doc`."
    ap = argparse.ArgumentParser(description=doc.split('\n')[0])
    ap.add_argument('-f', '--params', required=True, help='the params file the run was made with')
    ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('KEY', 'VALUE'), help='as for zrag')
    return ap


def run_params(a):
    "The run's params from the parsed arguments `a`, with its seed set."
    params = load_params(a.params, a.p)
    seed_everything(params.run.seed)
    return params


def outside_runs(text):
    "The `--save` path `text`, refused when parsed (before anything is measured) if it lies inside a run folder."
    p = Path(text)
    run = next((d for d in p.resolve().parents if (d / META_DIR).is_dir()), None)
    if run is not None:
        raise argparse.ArgumentTypeError(f"{p} lies in the run folder {run}: a benchmark never writes into a run. "
                                         f"Save it elsewhere (--save alone writes under {RESULTS}).")
    return p


def save_option(ap, name):
    "Add `--save [FILE]` to `ap`: also write the figures to FILE; with no FILE, to benchmarks/results/`name`."
    ap.add_argument('--save', type=outside_runs, nargs='?', const=RESULTS / name, metavar='FILE',
                    help=f'also write the JSON figures to FILE (alone: {RESULTS / name}); never inside a run folder')


def save_json(path, out):
    "Write the figures `out` to `path` (when given) and say where."
    if path is None: return
    atomic_write_json(path, out)
    print(f"saved {path}", file=sys.stderr)
