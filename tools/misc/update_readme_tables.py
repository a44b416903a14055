# Copyright (c) mmboundary contributors. All rights reserved.
"""Write (or check) every README results block from the JSON it cites.

    python tools/misc/update_readme_tables.py            # all READMEs
    python tools/misc/update_readme_tables.py --check    # compare only
    python tools/misc/update_readme_tables.py configs/dvis/README.md
    python tools/misc/update_readme_tables.py --strict   # refuse stale

A block is ``<!-- results: PATH#TABLE (written by
tools/misc/update_readme_tables.py; do not edit) -->`` ... ``<!-- results
end -->``; PATH is a JSON file written by a measuring tool through
:func:`mmboundary.utils.results_doc.dump_results`. See that module.

Results made from other code than the checkout's (``mmboundary/``,
``configs/`` or their tool changed since the commit they record), or that
record none, are written with a visible stale line naming the commit, the
changed paths and the command to rerun, and listed at the end; with
``--strict`` they are refused (exit 1) and their blocks left unchanged.
"""
import argparse
import glob
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from mmboundary.utils.results_doc import stale_blocks  # noqa: E402
from mmboundary.utils.results_doc import update_readme  # noqa: E402


def all_readmes(root: str = REPO_ROOT):
    """The top-level README, every ``configs/*/README.md`` and ``docs/``."""
    found = [osp.join(root, 'README.md')]
    found += sorted(glob.glob(osp.join(root, 'configs', '*', 'README.md')))
    found += sorted(
        glob.glob(osp.join(root, 'docs', '**', '*.md'), recursive=True))
    return [p for p in found if osp.isfile(p)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], allow_abbrev=False)
    parser.add_argument('readmes', nargs='*', help='default: all READMEs')
    parser.add_argument(
        '--check',
        action='store_true',
        help='compare only; exit 1 if any '
        'block differs from its source')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='refuse stale results (made from other code than this '
        'checkout, or recording no commit): exit 1 and leave their blocks')
    args = parser.parse_args(argv)
    readmes = args.readmes or all_readmes()
    for path in readmes:
        if not osp.isfile(path):
            parser.error(f'README {path} does not exist')
    if args.check:
        problems = [
            p for r in readmes
            for p in update_readme(r, check=True, strict=args.strict)
        ]
        for p in problems:
            print(p)
        if problems:
            return 1
        print(f'{len(readmes)} README(s): every results block equals its '
              'source')
        return 0
    failed = False
    for path in readmes:
        try:
            for block in update_readme(path, strict=args.strict):
                print(f'{osp.relpath(path, REPO_ROOT)}: rewrote {block}')
        except ValueError as e:  # a missing source: the other blocks written
            print(e)
            failed = True
    if not args.strict:
        stale = [s for r in readmes for s in stale_blocks(r)]
        if stale:
            print(f'{len(stale)} block(s) marked stale (--strict refuses '
                  'them):')
            for line in stale:
                print('  ' + line.replace(REPO_ROOT + os.sep, '', 1))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
