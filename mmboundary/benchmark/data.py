# Copyright (c) mmboundary contributors. All rights reserved.
"""The benchmark's data: the synthetic Cityscapes-format dataset,
generated when missing and converted when not yet converted."""
import glob
import os.path as osp
import sys
from typing import List

from mmboundary.datasets.synthetic_cityscapes import (DATA_VERSION, MARKER,
                                                      read_marker)
from mmboundary.utils.cli import UserError
from .common import REPO_ROOT, log, rel
from .process import run

CONVERTERS = 'tools/dataset_converters'


def generate_command(root: str, seed: int) -> str:
    """The command that generates the synthetic dataset at ``root``."""
    return (f'python {CONVERTERS}/generate_synthetic_cityscapes.py --out '
            f'{rel(root)} --seed {seed}')


def convert_command(root: str) -> str:
    """The command that converts a Cityscapes-layout dataset at ``root``."""
    return f'python {CONVERTERS}/cityscapes.py {rel(root)} --nproc 2'


def data_ready(root: str) -> bool:
    """Whether ``root`` is converted: a ``*_labelTrainIds.png`` per polygon
    file and the COCO-style val instances."""
    polys = glob.glob(osp.join(root, 'gtFine', '*', '*', '*_polygons.json'))
    train_ids = glob.glob(
        osp.join(root, 'gtFine', '*', '*', '*_labelTrainIds.png'))
    ann = osp.join(root, 'annotations',
                   'instancesonly_filtered_gtFine_val.json')
    return bool(polys) and len(train_ids) == len(polys) and osp.isfile(ann)


def ensure_data(root: str, seed: int, log_file: str) -> None:
    """Generate (if missing) and convert (if not yet) the dataset.

    Raises:
        UserError: ``root`` exists but holds no Cityscapes layout, or its
            conversion did not finish; the message gives the command that
            fixes it.
    """
    tools = osp.join(REPO_ROOT, CONVERTERS)
    marker = osp.join(root, MARKER)
    regenerate = not osp.isdir(root)
    why = 'missing'
    # ours: regenerate (the generator's --overwrite rewrites everything,
    # lists and conversions included) if another data version, other
    # settings or incomplete
    if osp.isfile(marker):
        settings = read_marker(root)
        images = glob.glob(osp.join(root, 'leftImg8bit', '*', '*', '*.png'))
        expected = settings.get('num_train', 0) + settings.get('num_val', 0)
        if settings['version'] != DATA_VERSION:
            why = (f'its data are version {settings["version"]}, the '
                   f'generator writes version {DATA_VERSION}')
        elif settings.get('seed') != seed:
            why = f'its seed is {settings.get("seed")}, not {seed}'
        elif len(images) != expected:
            why = f'it holds {len(images)} of its {expected} images'
        else:
            why = ''
        regenerate = bool(why)
    elif not regenerate and not all(
            osp.isdir(osp.join(root, d)) for d in ('leftImg8bit', 'gtFine')):
        raise UserError(
            f'--data-root {root}: no Cityscapes layout there (leftImg8bit/ '
            'and gtFine/); generate the synthetic data with '
            f'`{generate_command(root, seed)}` or give a missing folder '
            '(the main job generates it)')
    if regenerate:
        log(f'generating the synthetic dataset in {root} ({why}'
            f'{"; --overwrite" if osp.isfile(marker) else ""})')
        run([
            sys.executable,
            osp.join(tools, 'generate_synthetic_cityscapes.py'), '--out', root,
            '--seed',
            str(seed)
        ] + (['--overwrite'] if osp.isfile(marker) else []), log_file)
    if not data_ready(root):
        log(f'converting {root} (labelTrainIds, instance JSONs)')
        run([
            sys.executable,
            osp.join(tools, 'cityscapes.py'), root, '--nproc', '2'
        ], log_file)
        if not data_ready(root):
            raise UserError(
                f'--data-root {root}: still not converted after '
                f'{CONVERTERS}/cityscapes.py (see {log_file}); convert it '
                f'with `{convert_command(root)}`')
    else:
        log(f'data ready in {root}')


def train_files(root: str) -> List[str]:
    """The files the shared start learns from (images and train ids).

    Raises:
        UserError: None there; the message gives the commands that make
            them.
    """
    files = glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png'))
    files += glob.glob(
        osp.join(root, 'gtFine', 'train', '*', '*_labelTrainIds.png'))
    if not files:
        raise UserError(
            f'--data-root {root}: no training images or *_labelTrainIds.png '
            f'there; generate the data with `{generate_command(root, 0)}` '
            f'and convert it with `{convert_command(root)}`')
    return sorted(osp.abspath(p) for p in files)
