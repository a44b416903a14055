# Copyright (c) mmboundary contributors. All rights reserved.
"""Prepare a Cityscapes-format root for mmseg and mmdet.

Works unchanged on the real dataset and on the synthetic one written by
``generate_synthetic_cityscapes.py``. For every split found under
``gtFine/`` (``train``, ``val``, ``test``) it writes

* ``gtFine/{split}/{city}/*_gtFine_labelTrainIds.png`` next to each
  ``*_gtFine_polygons.json``, rasterised by cityscapesscripts'
  ``json2labelImg(..., 'trainIds')`` (what mmseg's ``CityscapesDataset``
  reads, ``seg_map_suffix='_gtFine_labelTrainIds.png'``);
* ``{out_dir}/instancesonly_filtered_gtFine_{split}.json``: COCO-style
  instance annotations from ``*_gtFine_instanceIds.png`` in the format mmdet's
  ``CityscapesDataset`` reads (``images`` with ``file_name``
  ``city/*_leftImg8bit.png``, ``segm_file``, ``height``, ``width``, ``id``;
  ``annotations`` with RLE ``segmentation``, XYWH ``bbox``, ``area``,
  ``iscrowd``, ``category_id`` = Cityscapes label id; ``categories`` = the
  eight instance classes evaluated by Cityscapes);
* ``ROOT/{split}.txt``: one ``city/stem`` per line (as mmseg's converter).

Example::

    python tools/dataset_converters/cityscapes.py data/cityscapes --nproc 8
    # -> data/cityscapes/annotations/instancesonly_filtered_gtFine_*.json

A polygon whose label is not a Cityscapes label name, an instance id that
is not a Cityscapes id and a missing file are errors that name the file
(one line; ``--debug`` or ``MMB_DEBUG=1``: the traceback). Progress per
split (with an ETA) goes to stdout; ``--quiet`` prints only the summary.
"""
import glob
import json
import os
import os.path as osp
import time
from multiprocessing import Pool

import numpy as np

from mmboundary.utils.cli import UserError, add_quiet, run_cli, strict_parser
from mmboundary.utils.progress import track

SPLITS = ('train', 'val', 'test')
IMG_SUFFIX = '_leftImg8bit.png'
POLY_SUFFIX = '_gtFine_polygons.json'
INST_SUFFIX = '_gtFine_instanceIds.png'
LABEL_SUFFIX = '_gtFine_labelIds.png'
TRAIN_ID_SUFFIX = '_gtFine_labelTrainIds.png'


class LayoutError(UserError, ValueError):
    """A file or folder of the Cityscapes layout is missing or malformed."""


def parse_args(argv=None):
    parser = strict_parser(
        description='Convert a Cityscapes-format root: labelTrainIds PNGs '
        '(mmseg) and COCO-style instance JSONs (mmdet)')
    parser.add_argument(
        'root', help='Cityscapes root (holds leftImg8bit/ '
        'and gtFine/)')
    parser.add_argument('--img-dir', default='leftImg8bit')
    parser.add_argument('--gt-dir', default='gtFine')
    parser.add_argument(
        '-o',
        '--out-dir',
        help='where the instance JSONs go (default: ROOT/annotations)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=None,
        choices=SPLITS,
        help='splits to convert (default: those present under gtFine/)')
    parser.add_argument('--nproc', type=int, default=1)
    add_quiet(parser)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an input error')
    args = parser.parse_args(argv)
    if args.nproc < 1:
        parser.error(f'--nproc must be >= 1, got {args.nproc}')
    return args


def collect_frames(root, split, img_dir='leftImg8bit', gt_dir='gtFine'):
    """List the frames of one split and check that their files exist.

    Returns:
        list[tuple[str, str]]: ``(city, stem)`` pairs, sorted.

    Raises:
        LayoutError: naming the missing folder or file and what was expected.
    """
    gt_split = osp.join(root, gt_dir, split)
    img_split = osp.join(root, img_dir, split)
    for path in (gt_split, img_split):
        if not osp.isdir(path):
            raise LayoutError(
                f'{path} is not a directory; a Cityscapes root holds '
                f'{img_dir}/{split}/<city>/*{IMG_SUFFIX} and '
                f'{gt_dir}/{split}/<city>/*{POLY_SUFFIX}')
    polys = sorted(glob.glob(osp.join(gt_split, '*', '*' + POLY_SUFFIX)))
    if not polys:
        raise LayoutError(
            f'no *{POLY_SUFFIX} files found in {gt_split}/<city>/; '
            'expected the Cityscapes gtFine layout')
    frames = []
    for poly in polys:
        city = osp.basename(osp.dirname(poly))
        stem = osp.basename(poly)[:-len(POLY_SUFFIX)]
        img = osp.join(img_split, city, stem + IMG_SUFFIX)
        inst = osp.join(gt_split, city, stem + INST_SUFFIX)
        for path, what in ((img, 'the image'), (inst, 'the instance-id map')):
            if not osp.isfile(path):
                raise LayoutError(f'{path} is missing: expected {what} '
                                  f'of {poly}')
        frames.append((city, stem))
    return frames


def check_polygon_labels(poly_file):
    """Raise :class:`LayoutError` naming ``poly_file`` and the object unless
    every (not deleted) object's label is a Cityscapes label name (``...group``
    names the group of an instance class), as ``json2labelImg`` needs: it
    would otherwise print an error with its own usage text and exit."""
    import cityscapesscripts.helpers.labels as cs_labels
    try:
        with open(poly_file) as f:
            ann = json.load(f)
    except (OSError, ValueError) as e:
        raise LayoutError(f'{poly_file}: cannot be read as JSON ({e})') \
            from None
    objects = ann.get('objects') if isinstance(ann, dict) else None
    if not isinstance(objects, list):
        raise LayoutError(f'{poly_file}: no `objects` list; expected a '
                          'Cityscapes polygons file')
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get('deleted'):
            continue
        label = obj.get('label')
        name = label
        if isinstance(label, str) and label not in cs_labels.name2label \
                and label.endswith('group'):
            name = label[:-len('group')]
        if name not in cs_labels.name2label:
            raise LayoutError(
                f'{poly_file}: object {i} has label {label!r}, which is not '
                'a Cityscapes label name (cityscapesscripts.helpers.labels); '
                'fix or delete the object')


def convert_train_ids(poly_file):
    """Write ``*_gtFine_labelTrainIds.png`` next to a polygons JSON."""
    from cityscapesscripts.preparation.json2labelImg import json2labelImg
    check_polygon_labels(poly_file)
    out = poly_file[:-len(POLY_SUFFIX)] + TRAIN_ID_SUFFIX
    json2labelImg(poly_file, out, 'trainIds')
    return out


def instance_annotations(inst_file):
    """COCO-style annotations of one ``*_gtFine_instanceIds.png``.

    Ids ``>= 1000`` are single instances of class ``id // 1000``; ids below
    1000 of an instance class are groups (``iscrowd=1``). Classes that
    Cityscapes ignores in evaluation are skipped.

    Returns:
        tuple: ``(height, width, annotations)``.
    """
    import cityscapesscripts.helpers.labels as cs_labels
    import cv2
    import pycocotools.mask as mask_utils
    inst = cv2.imread(inst_file, cv2.IMREAD_UNCHANGED)
    if inst is None:
        raise LayoutError(f'cannot read {inst_file}: expected a PNG')
    if inst.ndim != 2 or inst.dtype not in (np.uint16, np.int32):
        raise LayoutError(
            f'{inst_file} has shape {inst.shape} and dtype {inst.dtype}; '
            'expected a single-channel 16-bit instance-id map')
    anns = []
    for inst_id in np.unique(inst):
        inst_id = int(inst_id)
        label_id = inst_id // 1000 if inst_id >= 1000 else inst_id
        label = cs_labels.id2label.get(label_id)
        if label is None:
            raise LayoutError(f'{inst_file} holds id {inst_id}, which is not '
                              'a Cityscapes label id (or id * 1000 + k)')
        if not label.hasInstances or label.ignoreInEval:
            continue
        mask = np.asfortranarray((inst == inst_id).astype(np.uint8))
        rle = mask_utils.encode(mask)
        bbox = mask_utils.toBbox(rle)
        rle['counts'] = rle['counts'].decode()
        anns.append(
            dict(
                iscrowd=int(inst_id < 1000),
                category_id=label.id,
                bbox=[float(v) for v in bbox],
                area=float(mask_utils.area(rle)),
                segmentation=rle))
    return inst.shape[0], inst.shape[1], anns


def _frame_job(args):
    root, img_dir, gt_dir, split, city, stem = args
    gt_base = osp.join(root, gt_dir, split, city, stem)
    convert_train_ids(gt_base + POLY_SUFFIX)
    height, width, anns = instance_annotations(gt_base + INST_SUFFIX)
    image = dict(
        file_name=f'{city}/{stem}{IMG_SUFFIX}',
        height=height,
        width=width,
        segm_file=f'{city}/{stem}{LABEL_SUFFIX}')
    return image, anns


def coco_dict(results):
    """Assemble ``images``, ``annotations`` and ``categories``."""
    import cityscapesscripts.helpers.labels as cs_labels
    images, annotations = [], []
    for img_id, (image, anns) in enumerate(results):
        images.append(dict(image, id=img_id))
        for ann in anns:
            # COCO ids start at 1: pycocotools reads a matched id 0 as
            # "unmatched", which would lose one true positive.
            annotations.append(
                dict(ann, image_id=img_id, id=len(annotations) + 1))
    categories = [
        dict(id=lab.id, name=lab.name) for lab in cs_labels.labels
        if lab.hasInstances and not lab.ignoreInEval
    ]
    return dict(images=images, annotations=annotations, categories=categories)


def check_root(root, img_dir='leftImg8bit', gt_dir='gtFine'):
    """Raise :class:`LayoutError` unless ``root`` looks like Cityscapes."""
    for sub in (img_dir, gt_dir):
        path = osp.join(root, sub)
        if not osp.isdir(path):
            raise LayoutError(
                f'{path} is not a directory: {root} is not a Cityscapes '
                f'root (expected {img_dir}/ and {gt_dir}/ with '
                'train/, val/ [, test/] inside)')


def convert(root,
            out_dir=None,
            splits=None,
            nproc=1,
            img_dir='leftImg8bit',
            gt_dir='gtFine',
            verbose=True,
            quiet=None):
    """Convert ``root``; returns ``{split: path of the instance JSON}``.

    ``verbose`` prints a summary line per split, progress bars unless
    ``quiet`` (default: ``not verbose``)."""
    quiet = (not verbose) if quiet is None else quiet
    check_root(root, img_dir, gt_dir)
    out_dir = out_dir or osp.join(root, 'annotations')
    if splits is None:
        splits = [s for s in SPLITS if osp.isdir(osp.join(root, gt_dir, s))]
        if not splits:
            raise LayoutError(
                f'{osp.join(root, gt_dir)} has none of the split folders '
                f'{", ".join(SPLITS)}')
    written = {}
    for split in splits:
        start = time.perf_counter()
        frames = collect_frames(root, split, img_dir, gt_dir)
        jobs = [(root, img_dir, gt_dir, split, c, s) for c, s in frames]
        desc = f'[cityscapes] {split}'
        if nproc > 1:
            with Pool(nproc) as pool:
                results = list(
                    track(
                        pool.imap(_frame_job, jobs, chunksize=4),
                        total=len(jobs),
                        desc=desc,
                        quiet=quiet))
        else:
            results = list(
                track(map(_frame_job, jobs), len(jobs), desc, quiet=quiet))
        coco = coco_dict(results)
        os.makedirs(out_dir, exist_ok=True)
        json_path = osp.join(out_dir,
                             f'instancesonly_filtered_gtFine_{split}.json')
        with open(json_path, 'w') as f:
            json.dump(coco, f)
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.writelines(f'{c}/{s}\n' for c, s in frames)
        written[split] = json_path
        if verbose:
            print(
                f'[cityscapes] {split}: {len(frames)} frames, '
                f'{len(coco["annotations"])} instances -> {json_path} '
                f'({time.perf_counter() - start:.1f} s)',
                flush=True)
    return written


def main(argv=None):
    args = parse_args(argv)
    convert(
        args.root,
        args.out_dir,
        args.splits,
        args.nproc,
        args.img_dir,
        args.gt_dir,
        quiet=args.quiet)
    return 0


if __name__ == '__main__':
    run_cli(main)
