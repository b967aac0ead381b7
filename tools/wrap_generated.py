"""Rewrap what nbdev_export generates to the house's 120 characters: each module's `__all__` (nbdev wraps the list
at 120 and then puts `__all__ = ` in front of its first line) and `_modidx.py` (written at width 140). Only layout
changes: the same names, the same index. Idempotent; `make sync` and tools/check_sync.sh run it after nbdev_export.

    python tools/wrap_generated.py [LIB_DIR]
"""
import re, sys, ast
from pathlib import Path
from textwrap import TextWrapper

WIDTH = 120
ALL = re.compile(r"^__all__ = \[.*?\]$", re.S | re.M)


def wrap_all(text):
    "`text` with its `__all__ = [...]` list rewrapped so that no line passes WIDTH."
    m = ALL.search(text)
    if not m: return text
    names = ast.literal_eval(m.group()[len('__all__ = '):])
    tw = TextWrapper(width=WIDTH, initial_indent='__all__ = ', subsequent_indent=' ' * 11, break_long_words=False)
    return text[:m.start()] + '\n'.join(tw.wrap(str(names))) + text[m.end():]


def _lines(d, depth=1):
    "A dict as lines, one entry a line, 4 spaces a level; a value that does not fit goes on the next line."
    pad, out = ' ' * 4 * depth, []
    for k, v in d.items():
        if isinstance(v, dict): out += [f'{pad}{k!r}: {{', *_lines(v, depth + 1), f'{pad}}},']
        elif len(f'{pad}{k!r}: {v!r},') <= WIDTH: out.append(f'{pad}{k!r}: {v!r},')
        else: out += [f'{pad}{k!r}:', f'{pad}    {v!r},']
    return out


def wrap_modidx(text):
    "nbdev's `_modidx.py` (a comment, then `d = {...}`) written again with no line over WIDTH."
    head, _, body = text.partition('d = ')
    return head + 'd = {\n' + '\n'.join(_lines(ast.literal_eval(body))) + '\n}\n'


def main(lib=Path(__file__).resolve().parents[1] / 'zrag'):
    for p in sorted(Path(lib).glob('*.py')):
        old = p.read_text()
        new = wrap_modidx(old) if p.name == '_modidx.py' else wrap_all(old)
        if new != old: p.write_text(new)


if __name__ == '__main__':
    main(*sys.argv[1:])
