# Copyright (c) mmboundary contributors. All rights reserved.
"""The package's imports only run downwards and form no cycle (issue 21,
item 1).

The graph is drawn from the source with ``ast``: every ``import`` and
``from ... import`` of an ``mmboundary`` module counts, at module level and
inside functions alike (a function-level import does not hide a cycle).
Each module belongs to the layer of the longest entry of :data:`LAYERS`
that names it or a package above it (entries starting with ``=`` name one
module only: the package ``__init__`` that gathers the layers below). A
module may import modules of lower layers and of its own entry, never of a
higher layer nor of another entry of its layer.
"""
import ast
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Layers, lowest first. Within ``mmboundary.models`` the nets and other
#: building blocks (``utils``) sit below the pretraining of the frozen
#: auxiliary nets, which sits below the losses (they load verified nets
#: through it), below the heads, below what assembles heads. Within
#: ``mmboundary.engine`` the readers of datasets and configs and the tools'
#: command line of that pretraining (``engine.pretraining``) sit below the
#: hooks.
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ('mmboundary.version', ),
    ('mmboundary.utils', ),
    ('mmboundary.registry', ),
    ('mmboundary.datasets', 'mmboundary.evaluation'),
    ('mmboundary.models.utils', ),
    ('mmboundary.models.pretraining', ),
    ('mmboundary.models.losses', ),
    ('mmboundary.models.heads', ),
    ('mmboundary.models.data_preprocessors', 'mmboundary.models.detectors',
     'mmboundary.models.segmentors'),
    ('=mmboundary.models', ),
    ('mmboundary.engine.pretraining', 'mmboundary.engine.affinity_stats'),
    ('mmboundary.engine.hooks', ),
    ('=mmboundary.engine', ),
    ('=mmboundary', ),
    ('mmboundary.testing', ),
    ('mmboundary.benchmark', ),
)


class Import(NamedTuple):
    """One import statement's edge: ``source`` (file ``path``, ``line``)
    imports ``target``."""
    source: str
    path: str
    line: int
    target: str


def package_modules(root: str, package: str) -> Dict[str, Tuple[str, bool]]:
    """Dotted name -> (file, is a package ``__init__``) of every module."""
    modules = {}
    for folder, dirs, files in os.walk(osp.join(root, package)):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            dotted = osp.relpath(path, root)[:-3].replace(os.sep, '.')
            is_pkg = dotted.endswith('.__init__')
            if is_pkg:
                dotted = dotted[:-len('.__init__')]
            modules[dotted] = (path, is_pkg)
    return modules


def _absolute(source: str, is_pkg: bool, level: int,
              module: Optional[str]) -> str:
    if not level:
        return module or ''
    base = source if is_pkg else source.rpartition('.')[0]
    for _ in range(level - 1):
        base = base.rpartition('.')[0]
    return f'{base}.{module}' if module else base


def imports_of(root: str, package: str) -> List[Import]:
    """Every import of a module of ``package`` by a module of ``package``,
    module-level or not."""
    modules = package_modules(root, package)
    edges: List[Import] = []
    for source, (path, is_pkg) in sorted(modules.items()):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(source, is_pkg, node.level, node.module)
                for alias in node.names:
                    sub = f'{base}.{alias.name}'
                    targets.append(sub if sub in modules else base)
            for target in dict.fromkeys(targets):  # once per statement
                if target == package or target.startswith(package + '.'):
                    edges.append(
                        Import(source, osp.relpath(path, root), node.lineno,
                               target))
    return edges


def layer_of(module: str,
             layers: Sequence[Sequence[str]]) -> Optional[Tuple[int, str]]:
    """(rank, entry) of the longest entry of ``layers`` naming ``module``
    (or a package above it); None if none does."""
    best = None
    for rank, entries in enumerate(layers):
        for entry in entries:
            exact = entry.startswith('=')
            name = entry.lstrip('=')
            if module == name or (not exact and module.startswith(name + '.')):
                if best is None or len(name) > len(best[1]):
                    best = (rank, name)
    return best


def _where(edge: Import) -> str:
    return f'{edge.path}:{edge.line}: {edge.source} imports {edge.target}'


def layer_violations(edges: Sequence[Import], modules: Sequence[str],
                     layers: Sequence[Sequence[str]]) -> List[str]:
    """One line per module without a layer and per import that goes up or
    sideways, naming the file, line, importer and imported module."""
    problems = [
        f'{m} is in no layer of LAYERS (tests/test_import_graph.py); add it'
        for m in sorted(modules) if layer_of(m, layers) is None
    ]
    known = set(modules)
    for edge in edges:
        if edge.target not in known:
            problems.append(f'{_where(edge)}, which does not exist')
            continue
        src, dst = layer_of(edge.source, layers), layer_of(edge.target, layers)
        if src is None or dst is None or dst[1] == src[1]:
            continue
        if dst[0] > src[0]:
            problems.append(f"{_where(edge)}: upward, layer '{dst[1]}' is "
                            f"above '{src[1]}'")
        elif dst[0] == src[0]:
            problems.append(f"{_where(edge)}: sideways, '{dst[1]}' and "
                            f"'{src[1]}' share a layer")
    return problems


def cycles(edges: Sequence[Import]) -> List[str]:
    """One message per import cycle (strongly connected component of more
    than one module, or a module importing itself), listing its imports."""
    graph: Dict[str, List[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge.target)
        graph.setdefault(edge.target, [])
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack = set()
    components = []

    def visit(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            comp = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                comp.add(top)
                if top == node:
                    break
            components.append(comp)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    messages = []
    for comp in components:
        inside = sorted(
            (e for e in edges if e.source in comp and e.target in comp),
            key=lambda e: (e.source, e.line))
        if len(comp) > 1 or inside:
            messages.append(f'import cycle through {sorted(comp)}: ' +
                            '; '.join(_where(e) for e in inside))
    return messages


def module_getattr(root: str, package: str) -> List[str]:
    """Modules defining a module-level ``__getattr__`` (lazy names that
    hide an import from the graph)."""
    found = []
    for name, (path, _) in sorted(package_modules(root, package).items()):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and \
                    node.name == '__getattr__':
                found.append(f'{osp.relpath(path, root)}:{node.lineno}: '
                             f'{name} defines a module-level __getattr__')
    return found


def test_imports_only_run_downwards():
    modules = package_modules(REPO, 'mmboundary')
    problems = layer_violations(
        imports_of(REPO, 'mmboundary'), list(modules), LAYERS)
    assert problems == [], '\n'.join(problems)


def test_no_import_cycle():
    problems = cycles(imports_of(REPO, 'mmboundary'))
    assert problems == [], '\n'.join(problems)


def test_no_module_level_getattr():
    problems = module_getattr(REPO, 'mmboundary')
    assert problems == [], '\n'.join(problems)


def test_the_auxiliary_net_pretraining_has_one_home():
    """Nets in models.utils, recipes / loop / cache / report in
    models.pretraining, readers and the tools' main in engine.pretraining;
    the old split modules are gone."""
    modules = package_modules(REPO, 'mmboundary')
    for gone in ('mmboundary.models.utils.semantic_edge_net_pretrain',
                 'mmboundary.models.utils.inverse_net_pretrain',
                 'mmboundary.models.utils.pretrained_aux_net'):
        assert gone not in modules
    for present in ('mmboundary.models.utils.semantic_edge_net',
                    'mmboundary.models.utils.inverse_net',
                    'mmboundary.models.pretraining.shared',
                    'mmboundary.models.pretraining.edge_net',
                    'mmboundary.models.pretraining.inverse_net',
                    'mmboundary.engine.pretraining.data',
                    'mmboundary.engine.pretraining.config',
                    'mmboundary.engine.pretraining.tool',
                    'mmboundary.engine.hooks.frozen_net_pretrain_hook'):
        assert present in modules


# ---- the checker itself, on a made-up package --------------------------
FAKE_LAYERS = (('pkg.low', ), ('pkg.mid', 'pkg.side'), ('=pkg', ))


def _fake_package(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


@pytest.fixture
def fake(tmp_path):
    return _fake_package(
        tmp_path, {
            'pkg/__init__.py':
            'from . import low, mid\n',
            'pkg/low/__init__.py':
            '',
            'pkg/low/a.py': ('import os\n'
                             'def f():\n'
                             '    from pkg.mid.b import g\n'
                             '    return g\n'),
            'pkg/mid/__init__.py':
            'from .b import g\n',
            'pkg/mid/b.py': ('from pkg.low.a import f\n'
                             'from ..side import c\n'
                             'def g():\n'
                             '    return f\n'),
            'pkg/side/__init__.py':
            '',
            'pkg/side/c.py':
            'import pkg.nothere\n',
            'pkg/stray.py': ('def __getattr__(name):\n'
                             '    raise AttributeError(name)\n'),
        })


def test_checker_names_the_offending_imports(fake):
    modules = package_modules(fake, 'pkg')
    edges = imports_of(fake, 'pkg')
    # relative and function-level imports are resolved and counted
    assert ('pkg.low.a', 3, 'pkg.mid.b') in [(e.source, e.line, e.target)
                                             for e in edges]
    assert ('pkg.mid.b', 2, 'pkg.side.c') in [(e.source, e.line, e.target)
                                              for e in edges]
    problems = layer_violations(edges, list(modules), FAKE_LAYERS)
    a = osp.join('pkg', 'low', 'a.py')
    b = osp.join('pkg', 'mid', 'b.py')
    c = osp.join('pkg', 'side', 'c.py')
    assert problems == [
        'pkg.stray is in no layer of LAYERS (tests/test_import_graph.py); '
        'add it',
        f"{a}:3: pkg.low.a imports pkg.mid.b: upward, layer 'pkg.mid' is "
        "above 'pkg.low'",
        f"{b}:2: pkg.mid.b imports pkg.side.c: sideways, 'pkg.side' and "
        "'pkg.mid' share a layer",
        f'{c}:1: pkg.side.c imports pkg.nothere, which does not exist',
    ]
    assert cycles(edges) == [
        "import cycle through ['pkg.low.a', 'pkg.mid.b']: "
        f'{a}:3: pkg.low.a imports pkg.mid.b; '
        f'{b}:1: pkg.mid.b imports pkg.low.a'
    ]
    assert module_getattr(fake, 'pkg') == [
        f'{osp.join("pkg", "stray.py")}:1: pkg.stray defines a module-level '
        '__getattr__'
    ]


def test_checker_accepts_a_clean_package(tmp_path):
    root = _fake_package(
        tmp_path, {
            'pkg/__init__.py': 'from . import low, mid\n',
            'pkg/low/__init__.py': 'from .a import f\n',
            'pkg/low/a.py': 'def f():\n    return 1\n',
            'pkg/mid/__init__.py': 'from pkg.low import f\n',
            'pkg/side/__init__.py': 'import pkg.low.a\n',
        })
    edges = imports_of(root, 'pkg')
    assert len(edges) == 5
    modules = list(package_modules(root, 'pkg'))
    assert layer_violations(edges, modules, FAKE_LAYERS) == []
    assert cycles(edges) == []
    assert module_getattr(root, 'pkg') == []
