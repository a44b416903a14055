# Copyright (c) mmboundary contributors. All rights reserved.
"""Packaging for mmboundary (``pip install -e .``, ``pip install .``, a
wheel).

Like mmdet, mmseg and mmyolo, the package carries ``mmboundary/.mim``
(``configs``, ``tools``, ``model-index.yml``) so that ``mim train mmboundary
CONFIG``, ``mim test`` and ``mim run mmboundary TOOL`` find them in the
installed package. ``.mim`` is made at install time (git ignores it):
symlinks to the repository's folders for an editable install, copies for a
wheel or an sdist.
"""
import os
import os.path as osp
import platform
import shutil
import sys
import warnings
from setuptools import find_packages, setup

#: What ``mmboundary/.mim`` holds (paths relative to the repository root).
MIM_FILES = ('configs', 'tools', 'model-index.yml')
#: setuptools commands of an editable install (``develop``: legacy
#: ``setup.py develop``; ``editable_wheel``: PEP 660, ``pip install -e .``).
EDITABLE_COMMANDS = ('develop', 'editable_wheel')
#: Commands that build something to install elsewhere (``pip install .``
#: and ``pip wheel .`` run ``bdist_wheel``).
COPY_COMMANDS = ('sdist', 'bdist_wheel', 'build', 'install')


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def get_version():
    scope = {}
    with open(osp.join('mmboundary', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def mim_mode(argv):
    """How ``.mim`` is made for the setuptools command in ``argv``.

    Returns:
        str or None: ``'symlink'`` (editable install, not on Windows),
        ``'copy'`` (wheel, sdist; Windows) or None (any other command, e.g.
        metadata preparation: ``.mim`` is left as it is).
    """
    if any(cmd in argv for cmd in EDITABLE_COMMANDS):
        return 'copy' if platform.system() == 'Windows' else 'symlink'
    if any(cmd in argv for cmd in COPY_COMMANDS):
        return 'copy'
    return None


def add_mim_extension(mode, repo_path=None):
    """Make ``mmboundary/.mim`` from the repository's ``MIM_FILES``.

    Args:
        mode (str or None): ``'symlink'``, ``'copy'`` or None (do nothing);
            see :func:`mim_mode`.
        repo_path (str, optional): The repository root; defaults to this
            file's folder.
    """
    if mode is None:
        return
    repo_path = repo_path or osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'mmboundary', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src_path = osp.join(repo_path, name)
        tar_path = osp.join(mim_path, name)
        if not osp.exists(src_path):
            # building a wheel from an sdist: .mim came with the sdist
            continue
        if osp.islink(tar_path) or osp.isfile(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            src_relpath = osp.relpath(src_path, osp.dirname(tar_path))
            try:
                os.symlink(src_relpath, tar_path)
                continue
            except OSError:
                warnings.warn(f'Failed to create a symbolic link for '
                              f'{src_relpath}; copying it to {tar_path}')
        if osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        else:
            shutil.copytree(
                src_path,
                tar_path,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension(mim_mode(sys.argv))
    setup(
        name='mmboundary',
        version=get_version(),
        description='Boundary-aware losses, transforms and metrics for '
        'mmsegmentation 1.x and mmdetection 3.x',
        long_description=open('README.md').read(),
        long_description_content_type='text/markdown',
        packages=find_packages(
            exclude=('configs*', 'tools*', 'tests*', 'projects*', 'data*',
                     'work_dirs*')),
        # mmboundary/.mim (listed in MANIFEST.in) goes into wheels
        include_package_data=True,
        python_requires='>=3.8',
        install_requires=read_requirements('runtime.txt'),
        extras_require=dict(
            mim=read_requirements('mminstall.txt'),
            tests=read_requirements('tests.txt')),
        license='Apache License 2.0',
        zip_safe=False)
