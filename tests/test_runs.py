"`zrag runs` and `zrag runs --compare A B` on two real smoke runs that differ in one parameter."
import re, shutil
import pytest
from conftest import smoke_args
from zrag.stages import STAGES
from zrag.runs import write_run_index, compare_page_name

pytestmark = pytest.mark.integration


def test_runs_lists_and_compares(smoke_analyzed, cli):
    a, _ = smoke_analyzed
    root = a.parent
    shutil.copytree(a, root / 'b')                      # the same write, analyzed again with one parameter changed
    r = cli(*smoke_args(root, '-p', 'run_name', 'b', '-p', 'top_k', '2', cmd='analyze'))
    assert r.returncode == 0, r.stderr[-3000:]
    r = cli('runs', '-p', 'runs_dir', root)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [l.split()[:3] for l in lines] == [['a', 'ok', 'write,analyze'], ['b', 'ok', 'write,analyze']]
    assert all('n_docs=4' in l and 'a1_top1=' in l for l in lines)
    r = cli('runs', '-p', 'runs_dir', root, '--compare', 'a', 'b')
    assert r.returncode == 0, r.stderr
    page = root / compare_page_name(root / 'a', root / 'b')
    assert r.stdout.strip() == f'comparison: {page}'
    html = page.read_text()
    diff = html.split('<h2>Parameters that differ</h2>')[1].split('<h2>')[0]
    assert re.findall(r'<tr><td>(\w+)</td>', diff) == ['top_k'] and '<td>5</td><td>2</td>' in diff
    # shared metrics side by side: top-1 equal (same memory), the top-k accuracy under each run's own k
    assert 'analyze/01_verification/A1_confusion/confusion_metrics.json: top1' in html
    assert 'evidence.' not in html                               # only the stages both ran
    n_png = len(list(a.rglob('*.png')))
    assert html.count('<img src="data:image/png;base64,') == 2 * n_png and n_png == 8
    r = cli('runs', '-p', 'runs_dir', root, '--compare', 'a', 'nope')
    assert r.returncode == 2 and 'nope is not a readable run folder' in r.stderr
    # the page goes inside runs_dir whatever the paths given; a page path that is a folder is one line
    r = cli('runs', '-p', 'runs_dir', root, '--compare', f'../{root.name}/a', str(root / 'b'))
    assert r.returncode == 0 and r.stdout.strip().startswith(f'comparison: {root}/compare_a_vs_b_'), r.stderr
    r = cli('runs', '-p', 'runs_dir', root, '--compare', 'a', 'b', '-o', root)
    assert r.returncode == 2 and r.stderr.count('zrag: error') == 1 and 'is a folder: give' in r.stderr
    assert 'Traceback' not in r.stderr


def test_runs_tells_the_truth(smoke_analyzed, tmp_path, cli):
    "A deleted stage folder is not finished, a manifest that is a folder is listed as unreadable."
    a, _ = smoke_analyzed
    shutil.copytree(a, tmp_path / 'gone')
    shutil.rmtree(tmp_path / 'gone' / STAGES['analyze'].folder)
    (tmp_path / 'dir' / '00_meta' / 'run_manifest.json').mkdir(parents=True)
    r = cli('runs', '-p', 'runs_dir', tmp_path)
    assert r.returncode == 0, r.stderr
    dir_line, gone_line = r.stdout.splitlines()
    assert dir_line.split()[:2] == ['dir', 'unreadable'] and 'IsADirectoryError' in dir_line
    assert gone_line.split()[:3] == ['gone', 'ok', 'write']
    assert '(analyze lost: phase1_metrics.json missing)' in gone_line


def test_the_run_page(smoke_analyzed, cli, tmp_path):
    "Every stage command rewrites runs/<name>/index.html: each stage's status, numbers and report, escaped, no script."
    a, _ = smoke_analyzed
    b = tmp_path / 'b'
    shutil.copytree(a, b)
    page = (b / 'index.html').read_text() if (b / 'index.html').is_file() else ''
    assert page.count('<span class="done">done</span>') == 2 and 'not run' in page
    assert 'final loss = ' in page and 'A1 top-1 = ' in page and '<script' not in page
    assert f"{STAGES['analyze'].folder}/phase1_report.html" in page
    metrics = next((b / STAGES['analyze'].folder).rglob('phase1_metrics.json'))
    metrics.write_text('{')                             # a damaged metrics file is named on the page, not a crash
    write_run_index(b)
    assert 'unreadable' in (b / 'index.html').read_text()
    r = cli(*smoke_args(tmp_path, '-p', 'run_name', 'b', cmd='analyze'))
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'index: {b}/index.html' in r.stdout.splitlines()
    page = (b / 'index.html').read_text()
    assert 'A1 top-1 = ' in page and 'unreadable' not in page      # the analyze stage wrote its metrics again
