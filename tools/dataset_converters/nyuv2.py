# Copyright (c) mmboundary contributors. All rights reserved.
"""Convert NYU-Depth-v2 (labelled part) to the 40-class layout of
``NYUv2SegDataset``.

Inputs (official files):

* ``nyu_depth_v2_labeled.mat``: MATLAB v7.3, i.e. HDF5 (read with h5py,
  ``pip install h5py``). HDF5 stores MATLAB's column-major arrays with the
  axes reversed: ``images`` is (N, 3, W, H) uint8 RGB and ``labels`` is
  (N, W, H) with the 894 class ids (0 = unlabelled).
* ``splits.mat`` (MATLAB v5, read with scipy): ``trainNdxs`` (795) and
  ``testNdxs`` (654), 1-based frame indices.
* ``classMapping40.mat`` (MATLAB v5, Gupta et al., CVPR 2013): ``mapClass``,
  894 entries, entry k - 1 = the 40-class id (1..40) of class k.

Output (``--out-dir``, default ``data/nyuv2``)::

    images/{train,test}/0001.png     RGB frame, 480 x 640
    labels40/{train,test}/0001.png   uint8: 0 = unlabelled, 1..40
    train.txt, test.txt              the stems (1-based .mat index, 4 digits)

Example::

    python tools/dataset_converters/nyuv2.py nyu_depth_v2_labeled.mat \\
        --splits splits.mat --mapping classMapping40.mat -o data/nyuv2
"""
import argparse
import os
import os.path as osp
import sys
import time

import numpy as np

NUM_RAW_CLASSES = 894
NUM_CLASSES = 40
SPLIT_KEYS = {'train': 'trainNdxs', 'test': 'testNdxs'}
MAPPING_KEY = 'mapClass'


class NYUv2FormatError(ValueError):
    """An input file of the NYU-Depth-v2 conversion is malformed."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert nyu_depth_v2_labeled.mat to 40-class label PNGs '
        'and images for NYUv2SegDataset',
        allow_abbrev=False)
    parser.add_argument(
        'labeled_mat', help='nyu_depth_v2_labeled.mat (MATLAB v7.3 / HDF5)')
    parser.add_argument(
        '--splits', required=True, help='splits.mat (trainNdxs, testNdxs)')
    parser.add_argument(
        '--mapping',
        required=True,
        help='classMapping40.mat (mapClass: 894 -> 40 classes)')
    parser.add_argument('-o', '--out-dir', default='data/nyuv2')
    parser.add_argument(
        '--log-every',
        type=int,
        default=100,
        help='print progress every N frames (0: per split only)')
    return parser.parse_args(argv)


def _loadmat(path, key):
    from scipy.io.matlab import MatReadError, loadmat
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist (expected a MATLAB '
                                f'file holding {key!r})')
    try:
        content = loadmat(path)
    except (MatReadError, NotImplementedError, ValueError) as e:
        raise NYUv2FormatError(
            f'cannot read {path} with scipy.io.loadmat ({e}); expected a '
            f'MATLAB v5 file holding {key!r}') from None
    if key not in content:
        found = sorted(k for k in content if not k.startswith('__'))
        raise KeyError(f'{path} has no {key!r} (it holds {found}); is it the '
                       'right file?')
    return np.asarray(content[key])


def load_splits(path):
    """Read ``splits.mat``.

    Returns:
        dict[str, np.ndarray]: ``{'train': ..., 'test': ...}``, the 1-based
        frame indices as int64 vectors, in file order.

    Raises:
        KeyError: a key is missing. NYUv2FormatError: an index is not a
            positive integer, repeats, or is in both splits.
    """
    splits = {}
    for split, key in SPLIT_KEYS.items():
        values = _loadmat(path, key).ravel()
        if values.size == 0 or not np.all(values == np.round(values)) \
                or values.min() < 1:
            raise NYUv2FormatError(
                f'{path}: {key} must hold positive integer (1-based) frame '
                'indices')
        values = values.astype(np.int64)
        if np.unique(values).size != values.size:
            raise NYUv2FormatError(f'{path}: {key} repeats a frame index')
        splits[split] = values
    both = np.intersect1d(splits['train'], splits['test'])
    if both.size:
        raise NYUv2FormatError(
            f'{path}: frames {both[:5].tolist()} are in trainNdxs and '
            'testNdxs')
    return splits


def mapping_lut(map_class, source='mapClass'):
    """Lookup table raw id -> 40-class id from ``mapClass``.

    Args:
        map_class (np.ndarray): 894 values in 1..40; entry k - 1 is the class
            of raw id k.

    Returns:
        np.ndarray: (895,) uint8 with ``lut[0] = 0`` (unlabelled) and
        ``lut[k] = map_class[k - 1]``.
    """
    map_class = np.asarray(map_class).ravel()
    if map_class.size != NUM_RAW_CLASSES:
        raise NYUv2FormatError(
            f'{source} has {map_class.size} entries; expected '
            f'{NUM_RAW_CLASSES} (one per NYU-Depth-v2 class)')
    bad = (map_class < 1) | (map_class > NUM_CLASSES) | (
        map_class != np.round(map_class))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise NYUv2FormatError(
            f'{source}[{first}] = {map_class[first]} (raw class '
            f'{first + 1}); expected an integer in 1..{NUM_CLASSES}')
    return np.concatenate([[0], map_class]).astype(np.uint8)


def load_mapping(path):
    """Read ``classMapping40.mat`` into the lookup table of
    :func:`mapping_lut`."""
    return mapping_lut(_loadmat(path, MAPPING_KEY), f'{path}: {MAPPING_KEY}')


def _check_arrays(images, labels):
    if len(images.shape) != 4 or images.shape[1] != 3:
        raise NYUv2FormatError(
            f'images has shape {tuple(images.shape)}; expected (N, 3, W, H) '
            '(the HDF5 order of MATLAB\'s H x W x 3 x N)')
    if len(labels.shape) != 3:
        raise NYUv2FormatError(
            f'labels has shape {tuple(labels.shape)}; expected (N, W, H)')
    if (images.shape[0], ) + tuple(images.shape[2:]) != tuple(labels.shape):
        raise NYUv2FormatError(
            f'images {tuple(images.shape)} and labels {tuple(labels.shape)} '
            'disagree on the frame count or size')


def convert_arrays(images,
                   labels,
                   splits,
                   lut,
                   out_dir,
                   log_every=100,
                   verbose=True):
    """Write the 40-class layout from arrays in the HDF5 (transposed) order.

    Args:
        images: (N, 3, W, H) uint8 RGB, indexable per frame (a numpy array
            or an h5py dataset, read one frame at a time).
        labels: (N, W, H) raw class ids 0..894, indexable per frame.
        splits (dict[str, np.ndarray]): split -> 1-based frame indices.
        lut (np.ndarray): (895,) raw id -> 40-class id (:func:`mapping_lut`).
        out_dir (str): output root.

    Returns:
        dict[str, list[str]]: split -> written stems, in split order.
    """
    import cv2
    _check_arrays(images, labels)
    num = images.shape[0]
    for split, index in splits.items():
        if index.max() > num:
            raise NYUv2FormatError(
                f'split {split} has frame index {int(index.max())} but the '
                f'.mat holds {num} frames (indices are 1-based)')
    written = {}
    for split, index in splits.items():
        start = time.perf_counter()
        img_dir = osp.join(out_dir, 'images', split)
        lab_dir = osp.join(out_dir, 'labels40', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(lab_dir, exist_ok=True)
        stems = []
        for count, frame in enumerate(index, 1):
            stem = f'{int(frame):04d}'
            rgb = np.asarray(images[frame - 1]).transpose(2, 1, 0)
            raw = np.asarray(labels[frame - 1]).T
            if raw.max() >= lut.size:
                raise NYUv2FormatError(
                    f'frame {stem}: label value {int(raw.max())} is outside '
                    f'0..{lut.size - 1} (the raw NYU-Depth-v2 ids)')
            for path, array in ((osp.join(img_dir, stem + '.png'),
                                 np.ascontiguousarray(rgb[..., ::-1])),
                                (osp.join(lab_dir, stem + '.png'), lut[raw])):
                if not cv2.imwrite(path, array):
                    raise OSError(f'cannot write {path}')
            stems.append(stem)
            if verbose and log_every and count % log_every == 0:
                print(
                    f'[nyuv2] {split}: {count}/{len(index)} frames',
                    flush=True)
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as f:
            f.writelines(s + '\n' for s in stems)
        written[split] = stems
        if verbose:
            print(
                f'[nyuv2] {split}: {len(stems)} frames -> {img_dir}, '
                f'{lab_dir} ({time.perf_counter() - start:.1f} s)',
                flush=True)
    return written


def open_labeled_mat(path):
    """Open ``nyu_depth_v2_labeled.mat`` with h5py (imported here, so that
    the rest of the converter works without it).

    Returns:
        h5py.File: with the datasets ``images`` and ``labels``.
    """
    try:
        import h5py
    except ImportError:
        raise ImportError(
            'reading nyu_depth_v2_labeled.mat (MATLAB v7.3, i.e. HDF5) needs '
            'h5py: pip install h5py') from None
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist (expected '
                                'nyu_depth_v2_labeled.mat)')
    mat = h5py.File(path, 'r')
    for key in ('images', 'labels'):
        if key not in mat:
            mat.close()
            raise KeyError(f'{path} has no {key!r} dataset; expected the '
                           'labelled NYU-Depth-v2 file')
    return mat


def convert(labeled_mat,
            splits_mat,
            mapping_mat,
            out_dir,
            log_every=100,
            verbose=True):
    """Convert the three official files; returns split -> stems."""
    mat = open_labeled_mat(labeled_mat)  # fails first when h5py is missing
    with mat:
        splits = load_splits(splits_mat)
        lut = load_mapping(mapping_mat)
        return convert_arrays(mat['images'], mat['labels'], splits, lut,
                              out_dir, log_every, verbose)


def main(argv=None):
    args = parse_args(argv)
    try:
        convert(args.labeled_mat, args.splits, args.mapping, args.out_dir,
                args.log_every)
    except (ImportError, OSError, KeyError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
