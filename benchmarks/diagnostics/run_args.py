"""What the diagnostics that read a finished run share: its params file and overrides, taken as `zrag` takes them."""
import argparse
from zrag.core import load_params, seed_everything


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
