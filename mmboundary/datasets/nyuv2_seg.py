# Copyright (c) mmboundary contributors. All rights reserved.
"""NYU-Depth-v2 semantic segmentation, 40 classes (Gupta et al., CVPR 2013).

The labelled part of NYU-Depth-v2 (Silberman et al., ECCV 2012) has 1449
RGB-D frames of 480 x 640 with dense labels over 894 object classes, split
into 795 training and 654 test frames (``splits.mat``). The 40-class task
maps the 894 classes to 40 with Gupta et al.'s ``classMapping40.mat``; this is
the setting of InverseForm's NYU tables (Borse et al., CVPR 2021, Sec. 4.1,
Tables 1, 2 and 5).

Folder layout, written by ``tools/dataset_converters/nyuv2.py``::

    data/nyuv2/
        images/{train,test}/0001.png ...     RGB frames (8-bit PNG)
        labels40/{train,test}/0001.png ...   uint8: 0 = unlabelled, 1..40
        train.txt, test.txt                  one stem per line

Stems are the 1-based frame index in ``nyu_depth_v2_labeled.mat``. With
``reduce_zero_label=True`` (required) mmseg's ``LoadAnnotations`` maps the
label PNG's 0 to 255 (ignored) and class k to k - 1, so the network predicts
40 classes, 0 = wall ... 39 = otherprop.
"""
import os
import os.path as osp
from typing import List

from mmseg.datasets import BaseSegDataset

from mmboundary.registry import MMSEG_DATASETS
from mmboundary.utils.validation import check_bool, check_str

__all__ = ['NYUV2_CLASSES', 'nyuv2_palette', 'NYUv2SegDataset']

CONVERTER = 'tools/dataset_converters/nyuv2.py'
SPLIT_SIZES = {'train': 795, 'test': 654}

# Gupta et al.'s 40 classes, in label order 1..40 of ``classMapping40.mat``.
NYUV2_CLASSES = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table',
                 'door', 'window', 'bookshelf', 'picture', 'counter', 'blinds',
                 'desk', 'shelves', 'curtain', 'dresser', 'pillow', 'mirror',
                 'floor mat', 'clothes', 'ceiling', 'books', 'refrigerator',
                 'television', 'paper', 'towel', 'shower curtain', 'box',
                 'whiteboard', 'person', 'night stand', 'toilet', 'sink',
                 'lamp', 'bathtub', 'bag', 'otherstructure', 'otherfurniture',
                 'otherprop')


def nyuv2_palette(num_classes: int = 40) -> List[List[int]]:
    """Colours of the classes: the PASCAL VOC bit-interleaved colour map at
    label ids 1..num_classes (id 0, unlabelled, would be black).

    The three lowest bits of the id go to the most significant bits of R, G
    and B, the next three to the next bits, and so on: id 1 -> (128, 0, 0),
    id 2 -> (0, 128, 0), id 3 -> (128, 128, 0), id 4 -> (0, 0, 128).

    Returns:
        list[list[int]]: ``num_classes`` RGB triples.
    """
    palette = []
    for label in range(1, num_classes + 1):
        rgb = [0, 0, 0]
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((label >>
                                  (3 * bit + channel)) & 1) << (7 - bit)
        palette.append(rgb)
    return palette


def _missing_dir_message(path: str, what: str) -> str:
    parent = osp.dirname(osp.normpath(path))
    if osp.isdir(parent):
        found = sorted(
            d for d in os.listdir(parent) if osp.isdir(osp.join(parent, d)))
        there = f'; {parent} holds {", ".join(found) or "no folder"}'
    else:
        there = f'; {parent} does not exist either'
    splits = ', '.join(f'{s} ({n} frames)' for s, n in SPLIT_SIZES.items())
    return (f'{path} is not a directory ({what}){there}. NYU-Depth-v2 has '
            f'the splits {splits}: set data_prefix to images/<split> and '
            f'labels40/<split>, and write the layout with python {CONVERTER} '
            'nyu_depth_v2_labeled.mat --splits splits.mat --mapping '
            'classMapping40.mat -o data/nyuv2')


@MMSEG_DATASETS.register_module()
class NYUv2SegDataset(BaseSegDataset):
    """NYU-Depth-v2, 40-class semantic segmentation (795 train / 654 test).

    Reads the layout of the module docstring: ``data_prefix`` names the
    split's image and label folders (``images/train`` and
    ``labels40/train``). Every image needs its label PNG; a missing folder,
    an unknown split (NYU-Depth-v2 has no ``val``) or a missing label file
    raises before training, naming the path and the converter to run.

    Args:
        img_suffix (str): image file ending. Defaults to '.png'.
        seg_map_suffix (str): label file ending. Defaults to '.png'.
        reduce_zero_label (bool): must be True: the label PNGs hold
            0 = unlabelled and 1..40, mapped to 255 and 0..39.
        **kwargs: the rest of :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(classes=NYUV2_CLASSES, palette=nyuv2_palette(40))

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        owner = type(self).__name__
        check_str(img_suffix, 'img_suffix', owner)
        check_str(seg_map_suffix, 'seg_map_suffix', owner)
        if not check_bool(reduce_zero_label, 'reduce_zero_label', owner):
            raise ValueError(
                f'{owner}: reduce_zero_label={reduce_zero_label!r}; '
                'the label PNGs hold 0 = unlabelled and classes 1..40, so it '
                'must be True (0 -> 255 ignored, k -> k - 1)')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    def _check_dirs(self) -> str:
        """The image folder, after checking it and the label folder."""
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', None)
        if not osp.isdir(img_dir):
            raise FileNotFoundError(_missing_dir_message(img_dir, 'images'))
        if ann_dir is not None and not osp.isdir(ann_dir):
            raise FileNotFoundError(
                _missing_dir_message(ann_dir, 'label maps'))
        return img_dir

    def load_data_list(self) -> List[dict]:
        """List the split's frames (as mmseg), after checking the folders.

        Raises:
            FileNotFoundError: a folder, the ``ann_file`` or a label PNG is
                missing (message: the path and ``tools/dataset_converters/
                nyuv2.py``).
            ValueError: the image folder holds no ``img_suffix`` file.
        """
        img_dir = self._check_dirs()
        if self.ann_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'ann_file {self.ann_file} does not exist; {CONVERTER} '
                'writes ROOT/train.txt and ROOT/test.txt')
        data_list = super().load_data_list()
        if not data_list:
            raise ValueError(
                f'{img_dir} holds no *{self.img_suffix} image; write the '
                f'NYU-Depth-v2 layout with python {CONVERTER}')
        for info in data_list:
            if not osp.isfile(info['img_path']):
                raise FileNotFoundError(
                    f'{info["img_path"]} (listed in {self.ann_file}) is '
                    f'missing; rerun python {CONVERTER}')
            seg = info.get('seg_map_path')
            if seg is not None and not osp.isfile(seg):
                raise FileNotFoundError(
                    f'{seg} is missing: the label map of '
                    f'{info["img_path"]}; rerun python {CONVERTER}')
        return data_list
