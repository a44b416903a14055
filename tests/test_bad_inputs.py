# Copyright (c) mmboundary contributors. All rights reserved.
"""Bad-input sweep over every registered mmboundary module (issue 14, 6).

Every class that mmboundary registers, in any mmengine registry or a child
of one (mmseg's, mmdet's), must have an entry in :data:`BAD_INPUTS`, and
every explicit argument of its constructor must appear in at least one
invalid case. Each case builds the module through its registry, as a
config would, and must raise the listed exception with the argument's name
in the message. A new module, or a new argument, without an entry fails
:func:`test_every_registered_module_has_an_entry` /
:func:`test_every_argument_has_a_bad_case` with what to add.

Table format (one entry per registered class name)::

    'ClassName': dict(
        build=dict(...),      # valid kwargs; the module must build with them
        bad=[                 # (argument, invalid value, exception type)
            ('arg', value, ValueError),
            ...
        ]),

Arguments of the form ``'settings.lr'`` set one key of a dict argument
(the message must name ``settings['lr']``).
"""
import inspect
import re

import mmengine.registry as mmengine_registry
import pytest
from mmengine.registry import DefaultScope, Registry

import mmboundary  # noqa: F401  (registers everything)

BAD_INPUTS = {
    # ------------------------------------------------------------ losses
    'SemedaLoss':
    dict(
        build=dict(num_classes=3),
        bad=[
            ('num_classes', '3', TypeError),
            ('num_classes', 1, ValueError),
            ('edge_net_checkpoint', 5, TypeError),
            ('layer_weights', 'abc', TypeError),
            ('layer_weights', (1.0, 0.5), ValueError),
            ('layer_weights', (-1.0, 1.0, 1.0), ValueError),
            ('before_relu', 'yes', TypeError),
            ('distance', 'l3', ValueError),
            ('mode', 'emb', ValueError),
            ('kernel_size', 2, ValueError),
            ('kernel_size', '3', TypeError),
            ('reduction', 'avg', ValueError),
            ('loss_weight', 'x', TypeError),
            ('loss_weight', -1.0, ValueError),
            ('ignore_index', 2.5, TypeError),
            ('loss_name', 'semeda', ValueError),
            ('loss_name', 3, TypeError),
        ]),
    'EdgeAgreementLoss':
    dict(
        build=dict(),
        bad=[
            ('filters', 5, TypeError),
            ('p', 'two', TypeError),
            ('p', float('inf'), ValueError),
            ('loss_weight', -1, ValueError),
            ('loss_weight', None, TypeError),
            ('reduction', 'avg', ValueError),
            ('smooth_gt', 'no', TypeError),
            ('smooth_pred', 1, TypeError),
            ('smooth_sigma', 0, ValueError),
            ('magnitude', 'yes', TypeError),
            ('normalize', None, TypeError),
            ('mode', None, ValueError),
            ('exp_divisor', 0, ValueError),
            ('padding_mode', 'reflect', ValueError),
            ('loss_name', 5, TypeError),
        ]),
    'DVISBinaryLoss':
    dict(
        build=dict(),
        bad=[
            ('margin', 0, ValueError),
            ('margin', '2', TypeError),
            ('theta', -0.1, ValueError),
            ('theta', None, TypeError),
            ('pixel_weight', 'area', ValueError),
            ('weight_clip', 10, TypeError),
            ('weight_clip', (1.0, 5.0, 10.0), ValueError),
            ('weight_clip', (10.0, 1.0), ValueError),
            ('weight_clip', (1.0, 'x'), TypeError),
            ('class_weight', 2.0, TypeError),
            ('class_weight', [1.0, -1.0], ValueError),
            ('reduction', 'nonzero_mean', ValueError),
            ('loss_weight', -1, ValueError),
            ('loss_weight', '1', TypeError),
            ('loss_name', 'binary', ValueError),
            ('loss_name', 5, TypeError),
        ]),
    'PermutationInvariantLoss':
    dict(
        build=dict(window=17, dense_radius=4, dilation=4),
        bad=[
            ('window', 16, ValueError),
            ('window', (33, 64), ValueError),
            ('window', (33, 65, 3), ValueError),
            ('window', '17', TypeError),
            ('window', 3, ValueError),  # smaller than dense_radius=4
            ('dense_radius', 0, ValueError),
            ('dense_radius', 2.5, TypeError),
            ('dilation', 0, ValueError),
            ('dilation', '4', TypeError),
            ('dense_axes', 1, TypeError),
            ('pair_mode', 'fg', ValueError),
            ('border', 'zeros', ValueError),
            ('margin', 0, ValueError),
            ('margin', 'one', TypeError),
            ('pos_weight', -3, ValueError),
            ('pos_weight', None, TypeError),
            ('theta', 0, ValueError),
            ('max_diff', 0, ValueError),
            ('max_diff', 'inf', TypeError),
            ('reduction', 'none', ValueError),
            ('loss_weight', -0.2, ValueError),
            ('loss_name', 'pi', ValueError),
        ]),
    'MumfordShahLoss':
    dict(
        build=dict(),
        bad=[
            ('reduction', 'max', ValueError),
            ('loss_weight', -0.1, ValueError),
            ('loss_weight', 'x', TypeError),
            ('loss_name', 'ms', ValueError),
            ('loss_name', None, TypeError),
        ]),
    'QuantizationLoss':
    dict(
        build=dict(),
        bad=[
            ('reduction', 'nonzero_mean', ValueError),
            ('loss_weight', float('nan'), ValueError),
            ('loss_name', 'quant', ValueError),
        ]),
    # ------------------------------------------------------------- heads
    'DVISHead':
    dict(
        build=dict(
            num_classes=2,
            in_channels=16,
            feat_channels=16,
            loss_pi=dict(
                type='PermutationInvariantLoss',
                window=17,
                dense_radius=4,
                dilation=4),
            verify_head=dict(
                type='DVISVerifyHead',
                extractor_channels=16,
                conv_channels=(16, 16),
                fc_channels=32,
                head_fc_channels=16,
                roi_size=4)),
        bad=[
            ('num_classes', 0, ValueError),
            ('num_classes', '2', TypeError),
            ('in_channels', 0, ValueError),
            ('feat_channels', 16.0, TypeError),
            ('in_index', -1, ValueError),
            ('num_convs', -1, ValueError),
            ('num_convs_after_upsample', None, TypeError),
            ('upsample_ratio', 0, ValueError),
            ('upsample_ratio', 4, ValueError),  # 8 != 4 * 4
            ('featmap_stride', 16, ValueError),
            ('map_stride', '4', TypeError),
            ('norm_cfg', 'BN', TypeError),
            ('loss_binary', 5, TypeError),
            ('loss_pi', None, TypeError),
            ('loss_ms', 'MumfordShahLoss', TypeError),
            ('loss_quant', 0.5, TypeError),
            ('discretizer', 'MeanShiftDiscretizer', TypeError),
            ('verify_head', None, TypeError),
            ('train_cfg', 5, TypeError),
            ('test_cfg', [], TypeError),
            ('init_cfg', 'Xavier', TypeError),
        ]),
    'DVISVerifyHead':
    dict(
        build=dict(
            num_classes=2,
            in_channels=16,
            extractor_channels=16,
            conv_channels=(16, 16),
            fc_channels=32,
            head_fc_channels=16,
            roi_size=4),
        bad=[
            ('num_classes', 0, ValueError),
            ('in_channels', '16', TypeError),
            ('roi_size', 5, ValueError),
            ('roi_size', 4.0, TypeError),
            ('sampling_ratio', -1, ValueError),
            ('sampling_ratio', 2.0, TypeError),
            ('featmap_stride', 0, ValueError),
            ('map_stride', None, TypeError),
            ('extractor_channels', 0, ValueError),
            ('conv_channels', [], ValueError),
            ('conv_channels', 16, TypeError),
            ('conv_channels', (16, 0), ValueError),
            ('fc_channels', -1, ValueError),
            ('head_fc_channels', 1.5, TypeError),
            ('mask_input', 'hard', ValueError),
            ('pi_margin', 0, ValueError),
            ('pi_margin', 'one', TypeError),
            ('loss_cls', 'CrossEntropyLoss', TypeError),
            ('loss_iou', None, TypeError),
            ('init_cfg', 5, TypeError),
        ]),
    'AsymmetricAffinityLoss':
    dict(
        build=dict(delta=2.5, gamma=1.5),
        bad=[
            ('delta', 'x', TypeError),
            ('delta', float('nan'), ValueError),
            ('gamma', -0.5, ValueError),
            ('gamma', None, TypeError),
            ('kernel_size', 4, ValueError),
            ('kernel_size', 3.0, TypeError),
            ('dilation', 0, ValueError),
            ('dilation', '2', TypeError),
            ('reduction', 'avg', ValueError),
            ('loss_weight', -0.1, ValueError),
            ('loss_weight', 'x', TypeError),
            ('loss_name', 'pairwise', ValueError),
            ('loss_name', 3, TypeError),
        ]),
    # ------------------------------------------------------------- heads
    'AsyInstMaskHead':
    dict(
        build=dict(
            mask_feature_head=dict(
                in_channels=8,
                feat_channels=8,
                start_level=0,
                end_level=1,
                out_channels=8,
                mask_stride=8,
                num_stacked_convs=1),
            feat_channels=8,
            loss_mask=dict(
                type='DiceLoss', use_sigmoid=True, activate=True, eps=5e-6)),
        bad=[
            ('loss_color', 'AsymmetricAffinityLoss', TypeError),
            ('loss_color', dict(type='AsymmetricAffinityLoss',
                                gamma=3.0), ValueError),
            ('loss_depth', [dict(type='AsymmetricAffinityLoss')], TypeError),
            ('pairwise_size', 4, ValueError),
            ('pairwise_size', '3', TypeError),
            ('pairwise_dilation', 0, ValueError),
            ('pairwise_dilation', 2.0, TypeError),
        ]),
    'UbernetEdgeHead':
    dict(
        build=dict(in_channels=8, channels=4, num_classes=2),
        bad=[('num_classes', 1, ValueError)]),
    'EdgeAgreementMaskHead':
    dict(
        build=dict(num_classes=3),
        bad=[
            ('loss_edge', 5, TypeError),
            ('loss_edge', [], ValueError),
            ('loss_edge', ['EdgeAgreementLoss'], TypeError),
            ('loss_edge',
             [dict(type='EdgeAgreementLoss'),
              dict(type='EdgeAgreementLoss')], ValueError),
        ]),
    # --------------------------------------------------------- detectors
    'DVIS':
    dict(
        build=dict(
            _scope_='mmdet',  # as default_scope='mmdet' in its configs
            data_preprocessor=dict(
                type='DetDataPreprocessor', pad_size_divisor=32),
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=8,
                stem_channels=8,
                out_indices=(0, 1, 2, 3)),
            neck=dict(
                type='FPN',
                in_channels=[8, 16, 32, 64],
                out_channels=16,
                start_level=1,
                num_outs=3),
            mask_head=dict(
                type='DVISHead',
                num_classes=2,
                in_channels=16,
                feat_channels=16,
                loss_pi=dict(
                    type='PermutationInvariantLoss',
                    window=17,
                    dense_radius=4,
                    dilation=4),
                verify_head=dict(
                    type='DVISVerifyHead',
                    extractor_channels=16,
                    conv_channels=(16, 16),
                    fc_channels=32,
                    head_fc_channels=16,
                    roi_size=4))),
        bad=[
            ('backbone', 'ResNet', TypeError),
            ('neck', 5, TypeError),
            ('bbox_head', dict(), ValueError),
            ('mask_head', None, ValueError),
            ('mask_head', 'DVISHead', TypeError),
            ('train_cfg', 5, TypeError),
            ('test_cfg', 'fast', TypeError),
            ('data_preprocessor', 5, TypeError),
            ('data_preprocessor.pad_size_divisor', 12, ValueError),
            ('init_cfg', 'Xavier', TypeError),
        ]),
    # ----------------------------------------------------------- task utils
    'MeanShiftDiscretizer':
    dict(
        build=dict(),
        bad=[
            ('bandwidths', (0.4, 0.0), ValueError),
            ('bandwidths', 0.4, TypeError),
            ('bandwidths', (), ValueError),
            ('bandwidths', ('0.4', ), TypeError),
            ('spatial_radii', (7, ), ValueError),
            ('spatial_radii', (7, 0), ValueError),
            ('spatial_radii', (7, 1.5), TypeError),
            ('num_iters', 0, ValueError),
            ('num_iters', 'four', TypeError),
            ('impl', 'fast', ValueError),
            ('num_keep', (40, 0), ValueError),
            ('num_keep', 40, TypeError),
            ('size_thr', (5, -1), ValueError),
            ('bg_thr', -0.3, ValueError),
            ('bg_thr', 'x', TypeError),
            ('merge_unions', 1, TypeError),
            ('split_components', 'yes', ValueError),
            ('a2p_ratio_thr', -1, ValueError),
            ('a2p_perimeter_thr', 1.5, TypeError),
            ('border', 'zero', ValueError),
            ('attenuate', 'no', TypeError),
            ('dedup', None, TypeError),
        ]),
    # ------------------------------------------------ data preprocessors
    'AsyInstDataPreprocessor':
    dict(
        build=dict(
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            pad_size_divisor=32,
            depth_thresh=0.01),
        bad=[
            ('mask_stride', 0, ValueError),
            ('mask_stride', 3, ValueError),  # does not divide 32
            ('mask_stride', 4.0, TypeError),
            ('pairwise_size', 2, ValueError),
            ('pairwise_size', None, TypeError),
            ('pairwise_dilation', 1, ValueError),  # odd, with depth
            ('pairwise_dilation', 0, ValueError),
            ('pairwise_dilation', 'two', TypeError),
            ('pairwise_color_thresh', 1.5, ValueError),
            ('pairwise_color_thresh', '0.3', TypeError),
            ('bottom_pixels_removed', -1, ValueError),
            ('bottom_pixels_removed', 10.5, TypeError),
            ('depth_thresh', -0.01, ValueError),
            ('depth_thresh', '0.01', TypeError),
            ('depth_key', '', ValueError),
            ('depth_key', 5, TypeError),
            ('depth_scale', 0, ValueError),
            ('depth_scale', 'm', TypeError),
        ]),
    # ---------------------------------------------------------- datasets
    'NYUv2SegDataset':
    dict(
        build=dict(
            data_root='data/nyuv2/',
            data_prefix=dict(
                img_path='images/train', seg_map_path='labels40/train'),
            lazy_init=True),
        bad=[
            ('img_suffix', 5, TypeError),
            ('img_suffix', '', ValueError),
            ('seg_map_suffix', None, TypeError),
            ('reduce_zero_label', False, ValueError),
            ('reduce_zero_label', 'yes', TypeError),
        ]),
    # -------------------------------------------------------- transforms
    'GenerateSemanticEdge':
    dict(
        build=dict(),
        bad=[
            ('ignore_index', 'x', TypeError),
            ('connectivity', 6, ValueError),
            ('connectivity', '8', TypeError),
            ('width', 0, ValueError),
            ('width', 1.5, TypeError),
            ('num_classes', 0, ValueError),
            ('num_classes', '3', TypeError),
            ('seg_key', 5, TypeError),
            ('out_key', '', ValueError),
        ]),
    'GenerateSobelBoundary':
    dict(
        build=dict(),
        bad=[
            ('threshold', -1, ValueError),
            ('threshold', 'x', TypeError),
            ('ignore_index', 1.5, TypeError),
            ('seg_key', None, TypeError),
            ('out_key', 5, TypeError),
        ]),
    'CheckSegLabels':
    dict(
        build=dict(num_classes=19),
        bad=[
            ('num_classes', 0, ValueError),
            ('num_classes', '19', TypeError),
            ('ignore_index', 2.5, TypeError),
            ('seg_key', '', ValueError),
            ('seg_key', 5, TypeError),
        ]),
    'LoadCityscapesDepth':
    dict(
        build=dict(),
        bad=[
            ('img_dir', 5, TypeError),
            ('disparity_dir', '', ValueError),
            ('camera_dir', None, TypeError),
            ('max_depth', -1, ValueError),
            ('max_depth', 'far', TypeError),
            ('backend_args', 'local', TypeError),
        ]),
    'AlignDepth':
    dict(
        build=dict(transforms=[]),
        bad=[
            ('transforms', 5, TypeError),
            ('transforms', ['RandomFlip'], TypeError),
            ('keys', 5, TypeError),
            ('keys', [], TypeError),
        ]),
    'ResizeFlipDepth':
    dict(
        build=dict(),
        bad=[
            ('keys', 5, TypeError),
            ('keys', [''], TypeError),
        ]),
    # ------------------------------------------------------------- hooks
    'EdgeNetPretrainHook':
    dict(
        build=dict(),
        bad=[
            ('settings', [1], TypeError),
            ('settings.epochs', 3, KeyError),
            ('settings.lr', 'fast', TypeError),
            ('settings.max_epochs', 0, ValueError),
            ('settings.crop_size', True, TypeError),
            ('cache_dir', 5, TypeError),
            ('name', '', ValueError),
            ('max_val_images', 0, ValueError),
            ('max_val_images', 'all', TypeError),
            ('accept_failed_check', 'yes', TypeError),
        ]),
    'LossWeightWarmupHook':
    dict(
        build=dict(loss_paths=['decode_head.loss_decode'], warmup_iters=2),
        bad=[
            ('loss_paths', 'decode_head', ValueError),
            ('loss_paths', [1], ValueError),
            ('warmup_iters', 0, ValueError),
            ('warmup_iters', 2.5, TypeError),
            ('start_factor', 2, ValueError),
            ('start_factor', 'x', TypeError),
        ]),
    'RandomStateHook':
    dict(build=dict(), bad=[]),  # no arguments (unknown ones: see below)
    'InstanceMaskCheckHook':
    dict(build=dict(), bad=[]),  # no arguments (unknown ones: see below)
    'AsyInstCheckHook':
    dict(build=dict(), bad=[]),  # no arguments (unknown ones: see below)
    'BoundaryTargetCheckHook':
    dict(build=dict(), bad=[]),  # no arguments (unknown ones: see below)
    # ----------------------------------------------------------- metrics
    'BoundaryMetric':
    dict(
        build=dict(),
        bad=[
            ('ignore_index', 'x', TypeError),
            ('metrics', ['mBIOU'], ValueError),
            ('metrics', 5, TypeError),
            ('dilation_ratio', 0, ValueError),
            ('dilation_ratio', 'x', ValueError),
            ('boundary_width', 0, ValueError),
            ('bf_tolerance', -1, ValueError),
            ('bf_tolerance_ratio', 2.0, ValueError),
            ('trimap_widths', [0], ValueError),
            ('trimap_widths', [], ValueError),
            ('mba_steps', 0, ValueError),
            ('nan_to_num', 'zero', TypeError),
            ('collect_device', 'tpu', ValueError),
            ('prefix', 5, TypeError),
        ]),
    'BoundaryAPMetric':
    dict(
        build=dict(),
        bad=[
            ('ann_file', 5, TypeError),
            ('metric', 'boundry', KeyError),
            ('metric', 5, TypeError),
            ('boundary_dilation_ratio', 0, ValueError),
            ('boundary_cpu_count', 0, ValueError),
            ('boundary_cpu_count', '2', TypeError),
            ('fast_boundary', 'yes', TypeError),
        ]),
    # ------------------------------------------------- InverseForm (10)
    'BoundaryBCELoss':
    dict(
        build=dict(),
        bad=[
            ('balance', None, ValueError),
            ('avg_non_ignore', 1, TypeError),
            ('reduction', 'avg', ValueError),
            ('loss_weight', -1.0, ValueError),
            ('loss_weight', 'x', TypeError),
            ('ignore_index', 2.5, TypeError),
            ('loss_name', 'boundary', ValueError),
            ('loss_name', 3, TypeError),
        ]),
    'InverseFormLoss':
    dict(
        build=dict(inverse_net=dict(tile_size=16, hidden=(8, 4))),
        bad=[
            ('inverse_net_checkpoint', 5, TypeError),
            ('distance', 'manhattan', ValueError),
            ('distance', 1, TypeError),
            ('geodesic_lambda', -0.1, ValueError),
            ('inverse_net', 'small', TypeError),
            ('inverse_net', dict(tile=16), KeyError),
            ('tiling', None, ValueError),
            ('grid', (3, ), ValueError),
            ('grid', 3, TypeError),
            ('grid', (3, 0), ValueError),
            ('skip_empty_gt', 'yes', TypeError),
            ('min_gt_pixels', -1, ValueError),
            ('min_gt_pixels', 1.5, TypeError),
            ('pred_activation', 'softmax', ValueError),
            ('reduction', 'avg', ValueError),
            ('loss_weight', -1.0, ValueError),
            ('ignore_index', None, TypeError),
            ('loss_name', 'inverseform', ValueError),
        ]),
    'BoundaryHead':
    dict(
        build=dict(in_channels=8, channels=4),
        bad=[
            ('num_convs', -1, ValueError),
            ('num_convs', 1.0, TypeError),
            ('kernel_size', 2, ValueError),
            ('kernel_size', '3', TypeError),
            ('boundary_source', None, ValueError),
            ('sobel_threshold', -0.5, ValueError),
            ('sobel_threshold', 'x', TypeError),
        ]),
    'EdgeAttentionEncoderDecoder':
    dict(
        build=dict(
            _scope_='mmseg',  # as default_scope='mmseg' in its configs
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                num_stages=2,
                base_channels=4,
                stem_channels=4,
                out_indices=(1, ),
                strides=(1, 2),
                dilations=(1, 1)),
            decode_head=dict(
                type='FCNHead',
                in_channels=8,
                channels=4,
                num_convs=1,
                num_classes=3),
            auxiliary_head=dict(
                type='BoundaryHead',
                in_channels=8,
                channels=4,
                loss_decode=dict(type='BoundaryBCELoss'))),
        bad=[
            ('edge_attention', 0.8, TypeError),
            ('edge_attention.thresh', 0.5, KeyError),
            ('edge_attention.threshold', 1.5, ValueError),
            ('edge_attention.loss_weight', -1, ValueError),
            ('edge_attention.loss_weight', 'x', TypeError),
        ]),
    'InverseNetPretrainHook':
    dict(
        build=dict(),
        bad=[
            ('settings', [1], TypeError),
            ('settings.iters', 3, KeyError),
            ('settings.lr', 'fast', TypeError),
            ('settings.steps', 0, ValueError),
            ('settings.distance', 'manhattan', ValueError),
            ('settings.hidden', 64, TypeError),
            ('cache_dir', 5, TypeError),
            ('name', '', ValueError),
            ('max_val_images', 0, ValueError),
            ('max_val_images', 'all', TypeError),
            ('accept_failed_check', 'yes', TypeError),
        ]),
}


def _all_registries():
    """Every mmengine root registry and, recursively, its children."""
    todo = [
        r for r in vars(mmengine_registry).values() if isinstance(r, Registry)
    ]
    seen = {}
    while todo:
        reg = todo.pop()
        if id(reg) in seen:
            continue
        seen[id(reg)] = reg
        todo.extend(reg.children.values())
    return list(seen.values())


def registered_mmboundary_modules():
    """``{name: (registry, class)}`` of everything mmboundary registers."""
    found = {}
    for reg in _all_registries():
        for name, cls in reg.module_dict.items():
            if getattr(cls, '__module__', '').startswith('mmboundary.'):
                found[name] = (reg, cls)
    return found


REGISTERED = registered_mmboundary_modules()


def _explicit_args(cls):
    params = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name for p in params
        if p.name != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def test_every_registered_module_has_an_entry():
    assert len(REGISTERED) >= 12  # the enumeration itself works
    missing = sorted(set(REGISTERED) - set(BAD_INPUTS))
    assert not missing, (
        f'mmboundary registers {missing} but tests/test_bad_inputs.py has '
        'no BAD_INPUTS entry for them: add build=dict(<valid kwargs>) and '
        "bad=[('<arg>', <invalid value>, <ValueError|TypeError>), ...] with "
        'at least one invalid value per constructor argument.')
    stale = sorted(set(BAD_INPUTS) - set(REGISTERED))
    assert not stale, f'BAD_INPUTS lists unregistered modules {stale}'


@pytest.mark.parametrize('name', sorted(BAD_INPUTS))
def test_every_argument_has_a_bad_case(name):
    if name not in REGISTERED:
        pytest.skip(f'{name} is not registered (see the entry test)')
    covered = {arg.split('.')[0] for arg, _, _ in BAD_INPUTS[name]['bad']}
    missing = [
        a for a in _explicit_args(REGISTERED[name][1]) if a not in covered
    ]
    assert not missing, (
        f'{name}.__init__ arguments {missing} have no invalid case in '
        "BAD_INPUTS; add ('<arg>', <invalid value>, <exception>) entries")


def _build(module, /, **kwargs):
    registry, _ = REGISTERED[module]
    # In the registry's own scope, whatever an earlier test left as the
    # default scope (a runner built with default_scope='mmdet' keeps it).
    with DefaultScope.overwrite_default_scope(registry.scope):
        return registry.build(dict(type=module, **kwargs))


@pytest.mark.parametrize('name', sorted(BAD_INPUTS))
def test_the_valid_config_builds(name):
    if name not in REGISTERED:
        pytest.skip(f'{name} is not registered (see the entry test)')
    _build(name, **BAD_INPUTS[name]['build'])


CASES = [(name, *case) for name in sorted(BAD_INPUTS)
         for case in BAD_INPUTS[name]['bad']]


@pytest.mark.parametrize(
    'name,arg,value,error',
    CASES,
    ids=[f'{c[0]}-{c[1]}={c[2]!r}'[:80] for c in CASES])
def test_bad_argument_is_refused_naming_it(name, arg, value, error):
    if name not in REGISTERED:
        pytest.skip(f'{name} is not registered (see the entry test)')
    kwargs = dict(BAD_INPUTS[name]['build'])
    if '.' in arg:
        outer, key = arg.split('.')
        kwargs[outer] = {key: value}
        named = rf"{outer}\['{key}'\]|'{key}'"
    else:
        kwargs[arg] = value
        named = re.escape(arg)
    with pytest.raises(error) as info:
        _build(name, **kwargs)
    assert info.type is error or issubclass(info.type, error)
    assert re.search(named, str(info.value)), (
        f'{name}({arg}={value!r}) raised {info.type.__name__} without '
        f'naming `{arg}`: {info.value}')


@pytest.mark.parametrize('name', sorted(BAD_INPUTS))
def test_unknown_argument_is_refused_naming_it(name):
    if name not in REGISTERED:
        pytest.skip(f'{name} is not registered (see the entry test)')
    with pytest.raises(TypeError, match='bogus_option'):
        _build(name, **BAD_INPUTS[name]['build'], bogus_option=1)


# =====================================================================
# Command-line sweep (issue 20, item 6): every tool's argument errors and
# every bad-input case of the tools (missing config / data root /
# checkpoint, unconverted data, label ids out of range in training and in
# evaluation, undeclared COCO categories, unknown polygon labels, generator
# re-runs, --amp without a GPU, ...). Each case must end in ONE clear line
# (the last line of stderr: ``error: ...`` or argparse's ``prog: error:
# ...``) naming what is wrong, with no traceback, a non-zero exit status,
# and nothing written outside the case's own work dir (the case's folder
# and the repository are compared before and after).
# =====================================================================
import os  # noqa: E402
import os.path as osp  # noqa: E402
import runpy  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

from mmboundary.testing import import_tool  # noqa: E402
from mmboundary.testing._utils import REPO_ROOT  # noqa: E402

SEG_CFG = ('configs/baseline/'
           'fcn_r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py')
DET_CFG = ('configs/edge_agreement/'
           'mask-rcnn_r18-fpn_1xb2-120iter_synthetic-cityscapes-128x256.py')
TINY_CFG = 'tests/data/configs/tiny_seg.py'
VAL_JSON = 'annotations/instancesonly_filtered_gtFine_val.json'
TRAIN_JSON = 'annotations/instancesonly_filtered_gtFine_train.json'
NO_VAL = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']
# positional / required arguments that let each tool reach its option
# check, so that the error names the bad option
TOOL_POSITIONALS = {
    'tools/train.py': ['c.py'],
    'tools/test.py': ['c.py', 'k.pth'],
    'tools/misc/publish_model.py': ['in.pth', 'out.pth'],
    'tools/dataset_converters/cityscapes.py': ['root'],
    'tools/dataset_converters/nyuv2.py':
    ['x.mat', '--splits', 's.mat', '--mapping', 'm.mat'],
    'tools/analysis_tools/asyinst_affinity_stats.py': ['c.py'],
    'tools/analysis_tools/visualize_inverse_net.py':
    ['c.py', '--checkpoint', 'k.pth', '--out', 'o.png'],
    'tools/misc/train_edge_net.py': ['c.py'],
    'tools/misc/train_inverse_net.py': ['c.py'],
}
ALL_TOOLS = sorted(
    osp.relpath(p, REPO_ROOT) for p in __import__('glob').glob(
        osp.join(REPO_ROOT, 'tools', '**', '*.py'), recursive=True))


def _case(name,
          tool,
          argv,
          expect,
          setup=None,
          mode='inprocess',
          pending=None,
          code=2,
          skip=None):
    return dict(
        name=name,
        tool=tool,
        argv=argv,
        expect=expect,
        setup=setup,
        mode=mode,
        pending=pending,
        code=code,
        skip=skip)


def _amp_skip():
    import torch
    return 'a GPU is present' if torch.cuda.is_available() else None


TOOL_CASES = [
    # ------------------------------------------- argument errors, any tool
    *[
        _case(
            f'unknown-option:{tool}',
            tool,
            TOOL_POSITIONALS.get(tool, []) + ['--no-such-option'],
            ['error:', 'unrecognized arguments: --no-such-option'],
            pending=None)
        for tool in ALL_TOOLS if tool != 'tools/misc/run_main_job.py'
    ],
    _case('unknown-option:tools/misc/run_main_job.py',
          'tools/misc/run_main_job.py', ['--no-such-option'],
          ['unrecognized arguments: --no-such-option']),
    # abbreviations are refused (they used to select the full option)
    _case('abbrev:train --resum', 'tools/train.py',
          ['{repo}/' + TINY_CFG, '--resum'],
          ['unrecognized arguments: --resum']),
    _case('abbrev:test --work', 'tools/test.py',
          ['c.py', 'k.pth', '--work', '{wd}'],
          ['unrecognized arguments: --work']),
    _case('abbrev:publish --keep', 'tools/misc/publish_model.py',
          ['a.pth', 'b.pth', '--keep'], ['unrecognized arguments: --keep']),
    _case('abbrev:converter --split', 'tools/dataset_converters/cityscapes.py',
          ['root', '--split', 'val'], ['unrecognized arguments: --split']),
    _case('abbrev:generator --num-tr',
          'tools/dataset_converters/generate_synthetic_cityscapes.py',
          ['--out', '{tmp}/cs', '--num-tr', '2'],
          ['unrecognized arguments: --num-tr']),
    _case(
        'abbrev:nyuv2 --log', 'tools/dataset_converters/nyuv2.py',
        TOOL_POSITIONALS['tools/dataset_converters/nyuv2.py'] + ['--log', '5'],
        ['unrecognized arguments: --log']),
    _case('abbrev:train_edge_net --out', 'tools/misc/train_edge_net.py',
          ['c.py', '--out', 'x.json'], ['unrecognized arguments: --out']),
    _case(
        'abbrev:main job --publish-onl',
        'tools/misc/run_main_job.py', ['--publish-onl', '--work-dir', '{wd}'],
        ['unrecognized arguments: --publish-onl'],
        pending=None),
    # issue 19, item 3: an interval needs seeds
    _case('value:main job --protocol extended --seeds 0',
          'tools/misc/run_main_job.py',
          ['--protocol', 'extended', '--seeds', '0'], [
              'error: --seeds 0: too few seeds for the intervals of '
              '--protocol extended, which needs at least'
          ]),
    _case('value:main job --plan on one seed', 'tools/misc/run_main_job.py',
          ['--plan', '{repo}/tests/data/none.json'],
          ['error: --plan', 'no such file']),
    # bad values
    _case('value:train --launcher magic', 'tools/train.py',
          ['c.py', '--launcher', 'magic'], ["invalid choice: 'magic'"]),
    _case('value:converter --nproc 0',
          'tools/dataset_converters/cityscapes.py', ['root', '--nproc', '0'],
          ['--nproc must be >= 1']),
    _case('value:generator --height 10',
          'tools/dataset_converters/generate_synthetic_cityscapes.py',
          ['--out', '{tmp}/cs', '--height', '10'], ['--height must be >= 64']),
    # ------------------------------------------------ missing inputs
    _case('missing:train config', 'tools/train.py',
          ['{tmp}/nope.py', '--work-dir', '{wd}'],
          ['error: Config file', 'nope.py', 'does not exist']),
    _case('missing:train data root (semantic)', 'tools/train.py',
          ['{repo}/' + SEG_CFG, '--work-dir', '{wd}'], [
              "error: train_dataloader: data_root 'data/synthetic_cityscapes/'"
              ' does not exist',
              'python tools/dataset_converters/generate_synthetic_cityscapes'
              '.py --out data/synthetic_cityscapes && python tools/'
              'dataset_converters/cityscapes.py data/synthetic_cityscapes'
          ]),
    _case('missing:train data root (instance)', 'tools/train.py',
          ['{repo}/' + DET_CFG, '--work-dir', '{wd}'], [
              "error: train_dataloader: data_root 'data/synthetic_cityscapes/'"
              ' does not exist', 'generate_synthetic_cityscapes.py --out'
          ]),
    _case(
        'missing:train unconverted labels (semantic)',
        'tools/train.py', [
            '{repo}/' + SEG_CFG, '--work-dir', '{wd}', '--cfg-options',
            'train_dataloader.dataset.data_root={raw}', *NO_VAL
        ], [
            'error: train_dataloader: no *_gtFine_labelTrainIds.png label '
            'maps under {raw}/gtFine/train',
            'the data is not converted: run `python '
            'tools/dataset_converters/cityscapes.py {raw}`'
        ],
        setup='raw'),
    _case(
        'missing:train unconverted annotations (instance)',
        'tools/train.py', [
            '{repo}/' + DET_CFG, '--work-dir', '{wd}', '--cfg-options',
            'train_dataloader.dataset.data_root={raw}', *NO_VAL
        ], [
            'error: train_dataloader: annotation file {raw}/' + TRAIN_JSON +
            ' does not exist', 'run `python tools/dataset_converters/'
            'cityscapes.py {raw}`'
        ],
        setup='raw'),
    _case(
        'missing:train val evaluator ann_file',
        'tools/train.py', [
            '{repo}/' + DET_CFG, '--work-dir', '{wd}', '--cfg-options',
            'train_dataloader.dataset.data_root={conv}',
            'val_dataloader.dataset.data_root={conv}'
        ], [
            'error: val_evaluator: ann_file data/synthetic_cityscapes/' +
            VAL_JSON + ' does not exist', 'generate_synthetic_cityscapes.py'
        ],
        setup='conv'),
    _case(
        'missing:train --resume checkpoint',
        'tools/train.py', [
            '{repo}/' + TINY_CFG, '--work-dir', '{wd}', '--resume',
            '{tmp}/gone.pth', '--cfg-options', 'data_root={tiny}',
            'train_dataloader.dataset.data_root={tiny}',
            'val_dataloader.dataset.data_root={tiny}'
        ], ['error: --resume {tmp}/gone.pth: no such checkpoint'],
        setup='tiny'),
    _case('missing:test checkpoint', 'tools/test.py',
          ['{repo}/' + TINY_CFG, '{tmp}/no.pth', '--work-dir', '{wd}'],
          ["error: Checkpoint '{tmp}/no.pth' does not exist"]),
    _case(
        'missing:test data root',
        'tools/test.py', ['{repo}/' + SEG_CFG, '{ckpt}', '--work-dir', '{wd}'],
        [
            "error: test_dataloader: data_root "
            "'data/synthetic_cityscapes/' does not exist",
            'generate_synthetic_cityscapes.py'
        ],
        setup='ckpt'),
    _case(
        'missing:test --tta config',
        'tools/test.py',
        ['{repo}/' + TINY_CFG, '{ckpt}', '--tta', '--work-dir', '{wd}'],
        ['error: --tta needs `tta_model` and `tta_pipeline`'],
        setup='ckpt'),
    _case('missing:publish input', 'tools/misc/publish_model.py',
          ['{tmp}/none.pth', '{tmp}/out.pth'],
          ['error: input checkpoint {tmp}/none.pth does not exist']),
    _case(
        'bad:publish no state_dict',
        'tools/misc/publish_model.py', ['{ckpt_meta}', '{tmp}/out.pth'],
        ["error: {ckpt_meta}: The input checkpoint has no 'state_dict'"],
        setup='ckpt_meta'),
    _case(
        'missing:main job --publish-only results',
        'tools/misc/run_main_job.py', ['--publish-only', '--work-dir', '{wd}'],
        ['error:', 'results.json'],
        pending=None),
    *[
        _case(
            f'missing:{tool} data root',
            f'tools/misc/{tool}.py', ['{repo}/' + config, '--out-dir', '{wd}'],
            [
                "error: train_dataloader: data_root "
                "'data/synthetic_cityscapes/' does not exist",
                'generate_synthetic_cityscapes.py'
            ],
            pending=None) for tool, config in (
                ('train_edge_net', 'configs/semeda/semeda_r18-tiny_1xb4-'
                 '300it_synthetic-cityscapes-256x512.py'),
                ('train_inverse_net', 'configs/inverseform/inverseform_'
                 'r18-tiny_1xb4-300it_synthetic-cityscapes-256x512.py'))
    ],
    _case('missing:converter root', 'tools/dataset_converters/cityscapes.py',
          ['{tmp}/nothing'], ['error:', 'not a Cityscapes root']),
    _case(
        'missing:nyuv2 .mat',
        'tools/dataset_converters/nyuv2.py', [
            '{tmp}/x.mat', '--splits', '{tmp}/s.mat', '--mapping',
            '{tmp}/m.mat', '-o', '{wd}'
        ], ['error:'],
        code=1),
    # ------------------------------------------------------ bad settings
    _case(
        'bad:train --amp without a GPU',
        'tools/train.py',
        ['{repo}/' + TINY_CFG, '--amp', '--work-dir', '{wd}'],
        ['error: --amp needs a GPU', 'drop --amp'],
        skip=_amp_skip),
    # ------------------------------------------------ bad data
    _case(
        'bad:train label id out of range',
        'tools/train.py', [
            '{repo}/' + TINY_CFG, '--work-dir', '{wd}', '--cfg-options',
            'train_dataloader.dataset.data_root={badlabel}', *NO_VAL
        ], [
            'error: {badlabel}/ann_dir/train/train_001.png: label id 30 '
            "outside the valid range [0, 3) of the dataset's 3 classes",
            'check_labels=False'
        ],
        setup='badlabel',
        mode='subprocess'),
    _case(
        'bad:test label id out of range',
        'tools/test.py', [
            '{repo}/' + TINY_CFG, '{ckpt}', '--work-dir', '{wd}',
            '--cfg-options', 'test_dataloader.dataset.data_root={badlabel}'
        ], [
            'error: {badlabel}/ann_dir/val/val_001.png: label id 30 outside '
            'the valid range [0, 3)'
        ],
        setup='badlabel+ckpt',
        mode='subprocess'),
    _case(
        'bad:train COCO category id',
        'tools/train.py', [
            '{repo}/' + DET_CFG, '--work-dir', '{wd}', '--cfg-options',
            'train_dataloader.dataset.data_root={badcoco}', *NO_VAL
        ], [
            'error: {badcoco}/' + TRAIN_JSON + ': annotation',
            'category_id 99', "which the file's `categories` do not declare"
        ],
        setup='badcoco'),
    _case(
        'bad:converter polygon label',
        'tools/dataset_converters/cityscapes.py', ['{badpoly}'], [
            "error: {badpoly}/gtFine/train/aachen/aachen_000000_000019_"
            "gtFine_polygons.json: object 3 has label 'spaceship'"
        ],
        setup='badpoly'),
    _case(
        'bad:generator rerun with other sizes',
        'tools/dataset_converters/generate_synthetic_cityscapes.py', [
            '--out', '{conv}', '--num-train', '2', '--num-val', '1',
            '--height', '64', '--width', '128', '--quiet'
        ], [
            'error: {conv} holds a synthetic dataset generated with',
            'Pass --overwrite'
        ],
        setup='conv'),
    _case(
        'bad:generator into a real root',
        'tools/dataset_converters/generate_synthetic_cityscapes.py',
        ['--out', '{real}', '--num-train', '1', '--quiet'],
        ['error:', 'Refusing to overwrite'],
        setup='real'),
]


@pytest.fixture(scope='module')
def sweep_data(tmp_path_factory):
    """Small synthetic roots (64x128): raw (not converted) and converted."""
    gen = import_tool(
        'tools/dataset_converters/generate_synthetic_cityscapes.py')
    conv = import_tool('tools/dataset_converters/cityscapes.py')
    base = tmp_path_factory.mktemp('sweep_data')
    raw, converted = str(base / 'raw'), str(base / 'conv')
    for root in (raw, converted):
        gen.generate(
            root, num_train=1, num_val=1, height=64, width=128, verbose=False)
    conv.convert(converted, verbose=False)
    return dict(raw=raw, conv=converted)


def _setup(kind, case_dir, request, sweep_data):
    """Inputs of a case, copied into its folder; placeholders -> paths."""
    ctx = {}
    for part in (kind or '').split('+'):
        if part in ('raw', 'conv', 'badpoly', 'badcoco', 'real'):
            source = sweep_data['conv' if part in (
                'conv', 'badcoco') else 'raw'] if part != 'real' else None
            path = osp.join(case_dir, part)
            if source:
                shutil.copytree(source, path)
            ctx[part] = path
            if part == 'badpoly':
                import json
                poly = osp.join(path, 'gtFine', 'train', 'aachen',
                                'aachen_000000_000019_gtFine_polygons.json')
                with open(poly) as f:
                    ann = json.load(f)
                ann['objects'][3]['label'] = 'spaceship'
                with open(poly, 'w') as f:
                    json.dump(ann, f)
            elif part == 'badcoco':
                import json
                ann_file = osp.join(path, TRAIN_JSON)
                with open(ann_file) as f:
                    coco = json.load(f)
                coco['annotations'][0]['category_id'] = 99
                with open(ann_file, 'w') as f:
                    json.dump(coco, f)
            elif part == 'real':
                os.makedirs(osp.join(path, 'leftImg8bit'))
                with open(osp.join(path, 'license.txt'), 'w') as f:
                    f.write('real data')
        elif part == 'tiny':
            ctx['tiny'] = request.getfixturevalue('tiny_seg_root')
        elif part == 'badlabel':
            import cv2
            path = osp.join(case_dir, 'badlabel')
            shutil.copytree(request.getfixturevalue('tiny_seg_root'), path)
            for split in ('train', 'val'):
                ann = osp.join(path, 'ann_dir', split, f'{split}_001.png')
                label = cv2.imread(ann, cv2.IMREAD_UNCHANGED)
                label[3, 4] = 30
                cv2.imwrite(ann, label)
            ctx['badlabel'] = path
        elif part == 'ckpt':
            ctx['ckpt'] = osp.join(
                request.getfixturevalue('tiny_seg_run'), 'iter_4.pth')
        elif part == 'ckpt_meta':
            import torch
            path = osp.join(case_dir, 'meta_only.pth')
            torch.save({'meta': {'iter': 4}}, path)
            ctx['ckpt_meta'] = path
    return ctx


def _files(folder):
    """{relative path: (size, mtime_ns)} of every file under ``folder``."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = osp.join(dirpath, name)
            st = os.stat(path)
            out[osp.relpath(path, folder)] = (st.st_size, st.st_mtime_ns)
    return out


def _repo_state():
    proc = subprocess.run(
        ['git', 'status', '--porcelain', '--untracked-files=all'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    return proc.stdout


def _run_inprocess(tool, argv, cwd, monkeypatch, capsys):
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, 'argv', [osp.join(REPO_ROOT, tool)] + argv)
    monkeypatch.setattr(sys, 'path', list(sys.path))
    code, crash = 0, None
    try:
        runpy.run_path(osp.join(REPO_ROOT, tool), run_name='__main__')
    except SystemExit as e:
        code = e.code
    except BaseException:  # a traceback: what the sweep forbids
        crash = traceback.format_exc()
    out = capsys.readouterr()
    err = out.err + (crash or '')
    return code, err


def _run_subprocess(tool, argv, cwd):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env.pop('MMB_DEBUG', None)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, tool)] + argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    return proc.returncode, proc.stderr


def _case_params():
    params = []
    for case in TOOL_CASES:
        marks = []
        if case['pending']:
            marks.append(
                pytest.mark.xfail(strict=True, reason=case['pending']))
        params.append(pytest.param(case, id=case['name'], marks=marks))
    return params


def test_the_sweep_covers_every_tool():
    tools = {
        c['tool']
        for c in TOOL_CASES if c['name'].startswith('unknown-option:')
    }
    assert tools == set(ALL_TOOLS) and len(ALL_TOOLS) >= 20
    assert len(TOOL_CASES) >= 50, len(TOOL_CASES)


@pytest.mark.parametrize('case', _case_params())
def test_bad_command_line_ends_in_one_clear_line(case, tmp_path, request,
                                                 monkeypatch, capsys):
    if case['skip'] and case['skip']():
        pytest.skip(case['skip']())
    monkeypatch.delenv('MMB_DEBUG', raising=False)
    sweep_data = request.getfixturevalue(
        'sweep_data') if case['setup'] else None
    case_dir = str(tmp_path / 'case')
    os.makedirs(case_dir)
    work_dir = osp.join(case_dir, 'wd')
    ctx = dict(tmp=case_dir, wd=work_dir, repo=REPO_ROOT)
    ctx.update(_setup(case['setup'], case_dir, request, sweep_data))
    argv = [a.format(**ctx) for a in case['argv']]
    expect = [e.format(**ctx) for e in case['expect']]
    files_before = _files(case_dir)
    repo_before = _repo_state()

    if case['mode'] == 'subprocess':
        code, err = _run_subprocess(case['tool'], argv, case_dir)
    else:
        code, err = _run_inprocess(case['tool'], argv, case_dir, monkeypatch,
                                   capsys)

    assert 'Traceback' not in err, f'{case["name"]}: traceback:\n{err}'
    assert code == case['code'], f'exit status {code}:\n{err[-3000:]}'
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, 'nothing on stderr'
    last = lines[-1]
    assert re.match(r'^(error: |\S+: error: )', last), last
    for text in expect:
        assert text in last, f'{text!r} not in the last line {last!r}'
    # nothing written outside the run's own work dir
    changed = {
        path
        for path, stat in _files(case_dir).items()
        if files_before.get(path) != stat
    }
    outside = sorted(p for p in changed if not p.startswith('wd' + os.sep))
    assert not outside, f'written outside the work dir: {outside}'
    assert _repo_state() == repo_before, 'the repository was changed'
