"`zrag runs` and `zrag runs --compare A B` on two real smoke runs that differ in one parameter."
import re, shutil
import pytest
from conftest import smoke_args

pytestmark = pytest.mark.integration


def test_runs_lists_and_compares(smoke_analyzed, cli):
    a, _ = smoke_analyzed
    root = a.parent
    shutil.copytree(a, root / 'b')                      # the same write, analyzed again with one parameter changed
    r = cli(*smoke_args(root, '-p', 'run_name', 'b', '-p', 'top_k', '2', cmd='analyze'))
    assert r.returncode == 0, r.stderr[-3000:]
    r = cli('runs', '--runs-dir', root)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [l.split()[:3] for l in lines] == [['a', 'ok', 'write,analyze'], ['b', 'ok', 'write,analyze']]
    assert all('n_docs=4' in l and 'a1_top1=' in l for l in lines)
    r = cli('runs', '--runs-dir', root, '--compare', 'a', 'b')
    assert r.returncode == 0, r.stderr
    page = root / 'compare_a_vs_b.html'
    assert r.stdout.strip() == f'comparison: {page}'
    html = page.read_text()
    diff = html.split('<h2>Parameters that differ</h2>')[1].split('<h2>')[0]
    assert re.findall(r'<tr><td>(\w+)</td>', diff) == ['top_k'] and '<td>5</td><td>2</td>' in diff
    # shared metrics side by side: top-1 equal (same memory), the top-k accuracy under each run's own k
    assert 'analyze/01_verification/A1_confusion/confusion_metrics.json: top1' in html
    assert 'evidence.' not in html                               # only the stages both ran
    n_png = len(list(a.rglob('*.png')))
    assert html.count('<img src="data:image/png;base64,') == 2 * n_png and n_png == 8
    r = cli('runs', '--runs-dir', root, '--compare', 'a', 'nope')
    assert r.returncode == 2 and 'nope is not a readable run folder' in r.stderr
