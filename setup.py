# Copyright (c) mmboundary contributors. All rights reserved.
"""Packaging for mmboundary (``pip install -e .``)."""
import os.path as osp
from setuptools import find_packages, setup


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


setup(
    name='mmboundary',
    version=get_version(),
    description='Boundary-aware losses, transforms and metrics for '
    'mmsegmentation 1.x and mmdetection 3.x',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'projects', 'data',
                 'work_dirs')),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        mim=read_requirements('mminstall.txt'),
        tests=read_requirements('tests.txt')),
    license='Apache License 2.0',
    zip_safe=False)
