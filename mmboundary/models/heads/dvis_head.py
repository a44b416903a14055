# Copyright (c) mmboundary contributors. All rights reserved.
"""Mask head of DVIS (Yuan, Chen and Li, NeurIPS 2020).

An FCN branch on FPN P3 (stride 8) predicts one real-valued instance-label
map per image at output stride 4 (paper Sec. 4: one output channel, x2
decoder; the official code's protonet recipe). Training applies the losses
of paper Sec. 3.3 to the map and trains a verification head on candidates
found by mean-shift on the current map; inference discretises the map,
scores the candidates with the verifier and returns ordinary
``InstanceData`` (masks, labels, scores, bboxes).
"""
import copy
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads.base_mask_head import BaseMaskHead
from mmdet.models.layers import mask_matrix_nms
from mmdet.structures.mask import mask2bbox
from mmengine.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmboundary.models.utils.mean_shift import extend_boxes
from mmboundary.registry import MMDET_MODELS, MODELS
from mmboundary.utils.validation import check_dict, check_int

_DEFAULT_TRAIN_CFG = dict(
    pos_iou_thr=0.2,
    neg_iou_thr=0.1,
    pos_weight=2.0,
    add_gt_as_candidates=False,
    max_candidates=128,
    discretizer=None)
_DEFAULT_TEST_CFG = dict(
    score_alpha=0.5,
    score_thr=0.05,
    mask_thr=0.5,
    nms=dict(kernel='gaussian', sigma=2.0, filter_thr=0.05, nms_pre=500),
    max_per_img=100)


@MMDET_MODELS.register_module()
class DVISHead(BaseMaskHead):
    """DVIS map branch, losses, discretiser and verifier.

    Args:
        num_classes (int): number of thing classes.
        in_channels (int): FPN channels.
        feat_channels (int): channels of the map branch.
        in_index (int): FPN level the map branch and the verifier read (0 =
            P3 when the FPN starts at C3).
        num_convs (int): 3x3 convs before the upsampling.
        num_convs_after_upsample (int): 3x3 convs after it.
        upsample_ratio (int): bilinear upsampling factor.
        featmap_stride (int): stride of FPN level ``in_index``.
        map_stride (int): output stride of the map; must equal
            ``featmap_stride / upsample_ratio``.
        norm_cfg (dict, optional): norm of the branch convs.
        loss_binary, loss_pi, loss_ms, loss_quant (dict, optional): the four
            map losses (Sec. 3.3); ``None`` disables the last two.
        discretizer (dict): :class:`MeanShiftDiscretizer` config.
        verify_head (dict): :class:`DVISVerifyHead` config.
        train_cfg (dict, optional): ``pos_iou_thr`` (0.2), ``neg_iou_thr``
            (0.1), ``pos_weight`` (2), ``add_gt_as_candidates``,
            ``max_candidates`` per image, ``discretizer`` (overrides of the
            discretiser config at train time).
        test_cfg (dict, optional): ``score_alpha`` (alpha of ``alpha S_iou +
            (1 - alpha) S_cls``, Supp. Sec. 4), ``score_thr``, ``mask_thr``,
            ``nms`` (matrix NMS), ``max_per_img``.
        init_cfg (dict, optional): defaults to Xavier-uniform.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 256,
                 feat_channels: int = 256,
                 in_index: int = 0,
                 num_convs: int = 3,
                 num_convs_after_upsample: int = 1,
                 upsample_ratio: int = 2,
                 featmap_stride: int = 8,
                 map_stride: int = 4,
                 norm_cfg: Optional[dict] = None,
                 loss_binary: dict = dict(type='DVISBinaryLoss'),
                 loss_pi: dict = dict(type='PermutationInvariantLoss'),
                 loss_ms: Optional[dict] = dict(type='MumfordShahLoss'),
                 loss_quant: Optional[dict] = dict(type='QuantizationLoss'),
                 discretizer: dict = dict(type='MeanShiftDiscretizer'),
                 verify_head: dict = dict(type='DVISVerifyHead'),
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = dict(
                     type='Xavier', distribution='uniform', layer='Conv2d')):
        name = 'DVISHead'
        at_least_one = dict(
            num_classes=num_classes,
            in_channels=in_channels,
            feat_channels=feat_channels,
            upsample_ratio=upsample_ratio,
            featmap_stride=featmap_stride,
            map_stride=map_stride)
        at_least_zero = dict(
            in_index=in_index,
            num_convs=num_convs,
            num_convs_after_upsample=num_convs_after_upsample)
        for low, group in ((1, at_least_one), (0, at_least_zero)):
            for key, val in group.items():
                check_int(val, key, name, low=low)
        required = dict(
            loss_binary=loss_binary,
            loss_pi=loss_pi,
            discretizer=discretizer,
            verify_head=verify_head)
        optional = dict(
            norm_cfg=norm_cfg,
            loss_ms=loss_ms,
            loss_quant=loss_quant,
            train_cfg=train_cfg,
            test_cfg=test_cfg)
        for key, val in required.items():
            check_dict(val, key, name)
        for key, val in optional.items():
            check_dict(val, key, name, optional=True)
        check_dict(init_cfg, 'init_cfg', name, optional=True, list_ok=True)
        super().__init__(init_cfg=init_cfg)
        if featmap_stride != map_stride * upsample_ratio:
            raise ValueError(
                f'DVISHead: map_stride={map_stride} must equal featmap_stride'
                f' / upsample_ratio = {featmap_stride} / {upsample_ratio}; '
                'fix one of the three (paper and code: 8 / 2 = 4).')
        self.num_classes = num_classes
        self.in_index = in_index
        self.featmap_stride = featmap_stride
        self.map_stride = map_stride
        self.upsample_ratio = upsample_ratio
        convs, prev = [], in_channels
        for _ in range(num_convs):
            convs.append(
                ConvModule(
                    prev, feat_channels, 3, padding=1, norm_cfg=norm_cfg))
            prev = feat_channels
        self.convs = nn.Sequential(*convs)
        self.convs_after = nn.Sequential(*[
            ConvModule(
                prev if i == 0 else feat_channels,
                feat_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg) for i in range(num_convs_after_upsample)
        ])
        last = feat_channels if num_convs_after_upsample or num_convs \
            else in_channels
        self.conv_map = nn.Conv2d(last, 1, 1)
        self.loss_binary = MODELS.build(loss_binary)
        self.loss_pi = MODELS.build(loss_pi)
        self.loss_ms = MODELS.build(loss_ms) if loss_ms else None
        self.loss_quant = MODELS.build(loss_quant) if loss_quant else None
        self.train_cfg = copy.deepcopy(_DEFAULT_TRAIN_CFG)
        self.train_cfg.update(train_cfg or {})
        self.test_cfg = copy.deepcopy(_DEFAULT_TEST_CFG)
        self.test_cfg.update(test_cfg or {})
        self.discretizer = TASK_UTILS.build(discretizer)
        train_disc = copy.deepcopy(discretizer)
        train_disc.update(self.train_cfg.get('discretizer') or {})
        self.train_discretizer = TASK_UTILS.build(train_disc)
        verify_head = copy.deepcopy(verify_head)
        verify_head.setdefault('num_classes', num_classes)
        verify_head.setdefault('in_channels', in_channels)
        verify_head.setdefault('featmap_stride', featmap_stride)
        verify_head.setdefault('map_stride', map_stride)
        if verify_head['num_classes'] != num_classes:
            raise ValueError(
                f'DVISHead: verify_head.num_classes='
                f'{verify_head["num_classes"]} differs from num_classes='
                f'{num_classes}; set both to the dataset\'s classes.')
        self.verify_head = MMDET_MODELS.build(verify_head)

    # ------------------------------------------------------------------
    def forward(self, x: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Args:
            x (Sequence[Tensor]): FPN levels; level ``in_index`` is
                (B, C, H / 8, W / 8).

        Returns:
            tuple[Tensor, Tensor]: raw map (B, 1, H / 4, W / 4) (before the
            ReLU) and the FPN feature the verifier reads.
        """
        feat = x[self.in_index]
        y = self.convs(feat)
        y = F.interpolate(
            y,
            scale_factor=self.upsample_ratio,
            mode='bilinear',
            align_corners=False)
        y = self.convs_after(y)
        return self.conv_map(y), feat

    # ------------------------------------------------------------------
    def _check_shapes(self, map_raw: Tensor, metas: List[dict]) -> None:
        bh, bw = metas[0]['batch_input_shape']
        s = self.map_stride
        if bh % s or bw % s:
            raise ValueError(
                f'DVISHead: map stride {s} does not divide the padded image '
                f'{bh}x{bw}; set data_preprocessor.pad_size_divisor to a '
                f'multiple of {self.featmap_stride} (e.g. 32).')
        if tuple(map_raw.shape[-2:]) != (bh // s, bw // s):
            raise ValueError(
                f'DVISHead: map of size {tuple(map_raw.shape[-2:])} does not '
                f'match the padded image {bh}x{bw} / {s}; pad the batch to a '
                f'multiple of {self.featmap_stride} '
                '(data_preprocessor.pad_size_divisor).')

    def gt_id_map(self,
                  batch_gt_instances: List[InstanceData],
                  batch_img_metas: List[dict],
                  batch_gt_instances_ignore: Optional[list] = None,
                  shape: Optional[Tuple[int, int]] = None) -> Tensor:
        """Instance ids at map resolution (cell-centre sampling).

        Instances are painted in decreasing area (smaller ones win) with ids
        1..N in the order of ``gt_instances``; ignored (crowd) instances
        mark background pixels -1; pixels outside ``img_shape`` are -1.

        Returns:
            Tensor: (B, h, w) int64.
        """
        s, c = self.map_stride, self.map_stride // 2
        bh, bw = batch_img_metas[0]['batch_input_shape']
        h, w = shape or (bh // s, bw // s)
        out = []
        for b, (gt,
                meta) in enumerate(zip(batch_gt_instances, batch_img_metas)):
            if 'masks' not in gt:
                raise KeyError(
                    'DVISHead: the ground truth has no instance masks '
                    "('masks' missing from gt_instances); load them with "
                    "dict(type='LoadAnnotations', with_bbox=True, "
                    'with_mask=True) in the train pipeline and use a dataset '
                    'with instance masks.')
            masks = gt.masks
            ids = torch.zeros((h, w), dtype=torch.long)
            if len(masks):
                m = masks.to_tensor(torch.bool, 'cpu')[:, c::s,
                                                       c::s][:, :h, :w]
                order = torch.argsort(
                    m.flatten(1).sum(1), descending=True, stable=True)
                for k in order.tolist():
                    ids[m[k]] = k + 1
            ign = None if batch_gt_instances_ignore is None else \
                batch_gt_instances_ignore[b]
            if ign is not None and len(ign):
                region = torch.zeros((h, w), dtype=torch.bool)
                if 'masks' in ign:
                    im = ign.masks.to_tensor(torch.bool, 'cpu')[:, c::s, c::s]
                    im = im.any(0)[:h, :w]
                    region[:im.shape[0], :im.shape[1]] = im
                else:
                    for x0, y0, x1, y1 in ign.bboxes.cpu().tolist():
                        region[int(y0 // s):int(-(-y1 // s)),
                               int(x0 // s):int(-(-x1 // s))] = True
                ids[region & (ids == 0)] = -1
            ih, iw = meta['img_shape'][:2]
            ids[(torch.arange(h) * s + c >= ih)] = -1
            ids[:, (torch.arange(w) * s + c >= iw)] = -1
            out.append(ids)
        return torch.stack(out)

    def _gt_candidates(self, ids: Tensor, pred: Tensor) -> InstanceData:
        n = int(ids.max().clamp(min=0))
        masks = ids[None] == torch.arange(
            1, n + 1, device=ids.device)[:, None, None]
        masks = masks[masks.flatten(1).any(1)]
        res = InstanceData()
        res.masks = masks
        res.areas = masks.flatten(1).sum(1).float()
        res.means = (masks * pred).flatten(1).sum(1) / res.areas.clamp(min=1)
        res.bandwidth_idx = torch.full((len(masks), ), -1, dtype=torch.long)
        res.boxes = extend_boxes(masks)
        return res

    def verify_targets(self, cands: InstanceData, ids: Tensor,
                       labels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Labels, IoU targets and weights of one image's candidates.

        IoU of candidate k with instance g over valid map pixels; positive
        (label of the best instance, weight ``pos_weight``) if the best IoU
        is ``>= pos_iou_thr``, background (weight 1) if ``< neg_iou_thr``,
        ignored (weight 0) in between. The IoU target is the best IoU.

        Returns:
            tuple[Tensor, Tensor, Tensor]: (N,) labels, IoU targets and
            weights.
        """
        cfg = self.train_cfg
        n_c = len(cands)
        valid = ids >= 0
        n_g = int(ids.max().clamp(min=0))
        cm = (cands.masks.cpu() & valid).flatten(1).float()
        if n_g:
            gm = (ids[None] == torch.arange(
                1, n_g + 1, device=ids.device)[:, None,
                                               None]).flatten(1).float()
            inter = cm @ gm.t()
            union = cm.sum(1, keepdim=True) + gm.sum(1)[None] - inter
            iou = inter / union.clamp(min=1)
            best, arg = iou.max(1)
        else:
            best = torch.zeros(n_c)
            arg = torch.zeros(n_c, dtype=torch.long)
        lab = torch.full((n_c, ), self.num_classes, dtype=torch.long)
        wts = torch.zeros(n_c)
        pos = best >= cfg['pos_iou_thr']
        neg = best < cfg['neg_iou_thr']
        if n_g:
            lab[pos] = labels.cpu().long()[arg[pos]]
        wts[pos] = cfg['pos_weight']
        wts[neg] = 1.0
        return lab, best, wts

    def _rois(self, cands: List[InstanceData], device) -> Tensor:
        rois = [
            torch.cat([c.boxes.new_full((len(c), 1), b), c.boxes], 1)
            for b, c in enumerate(cands)
        ]
        rois = torch.cat(rois).to(device)
        rois[:, 1:] *= self.map_stride
        return rois

    # ------------------------------------------------------------------
    def loss_by_feat(self,
                     map_raw: Tensor,
                     feat: Tensor,
                     batch_gt_instances: List[InstanceData],
                     batch_img_metas: List[dict],
                     positive_infos: Optional[list] = None,
                     batch_gt_instances_ignore: Optional[list] = None,
                     **kwargs) -> dict:
        """Map losses (paper eqs. 3-7) and verifier losses.

        Returns:
            dict: ``loss_binary``, ``loss_pi``, ``loss_ms``, ``loss_quant``
            (names from the loss modules), ``loss_verify_cls``,
            ``loss_verify_iou``, and the logged scalars ``num_candidates``
            and ``num_verify_pos``.
        """
        self._check_shapes(map_raw, batch_img_metas)
        ids = self.gt_id_map(batch_gt_instances, batch_img_metas,
                             batch_gt_instances_ignore,
                             tuple(map_raw.shape[-2:])).to(map_raw.device)
        pred = F.relu(map_raw)
        valid = ids >= 0
        labels = [gt.labels for gt in batch_gt_instances]
        losses = {
            self.loss_binary.loss_name:
            self.loss_binary(map_raw, ids, gt_labels=labels),
            self.loss_pi.loss_name:
            self.loss_pi(pred, ids)
        }
        if self.loss_ms is not None:
            losses[self.loss_ms.loss_name] = self.loss_ms(pred, valid)
        if self.loss_quant is not None:
            losses[self.loss_quant.loss_name] = self.loss_quant(pred, valid)

        with torch.no_grad():
            det = pred.detach()
            cands = self.train_discretizer(det, valid[:, None])
            all_lab, all_iou, all_w = [], [], []
            for b, c in enumerate(cands):
                if self.train_cfg['add_gt_as_candidates']:
                    # GT first, so max_candidates never drops them
                    c = InstanceData.cat(
                        [self._gt_candidates(ids[b], det[b, 0]), c])
                c = c[:self.train_cfg['max_candidates']]
                cands[b] = c
                lab, iou, w = self.verify_targets(c, ids[b].cpu(), labels[b])
                all_lab.append(lab)
                all_iou.append(iou)
                all_w.append(w)
        num = sum(len(c) for c in cands)
        if num:
            rois = self._rois(cands, map_raw.device)
            means = torch.cat([c.means for c in cands]).to(map_raw.device)
            masks = torch.cat([c.masks for c in cands]).to(map_raw.device)
            lab = torch.cat(all_lab).to(map_raw.device)
            iou_t = torch.cat(all_iou).to(map_raw.device)
            w = torch.cat(all_w).to(map_raw.device)
        else:
            # one whole-image RoI with weight 0: every parameter gets a
            # (zero) gradient, so DDP needs no find_unused_parameters
            h, wd = map_raw.shape[-2:]
            rois = map_raw.new_tensor(
                [[0, 0, 0, wd * self.map_stride, h * self.map_stride]])
            means = map_raw.new_zeros(1)
            masks = torch.ones((1, h, wd),
                               dtype=torch.bool,
                               device=map_raw.device)
            lab = torch.full((1, ),
                             self.num_classes,
                             dtype=torch.long,
                             device=map_raw.device)
            iou_t = map_raw.new_zeros(1)
            w = map_raw.new_zeros(1)
        cls_logits, iou_pred = self.verify_head(feat, pred.detach(), rois,
                                                means, masks)
        losses.update(
            self.verify_head.loss(cls_logits, iou_pred, lab, iou_t,
                                  w.to(iou_pred.dtype)))
        losses['num_candidates'] = map_raw.new_tensor(float(num))
        losses['num_verify_pos'] = map_raw.new_tensor(
            float((lab < self.num_classes).logical_and(w > 0).sum()))
        return losses

    # ------------------------------------------------------------------
    def predict_by_feat(self,
                        map_raw: Tensor,
                        feat: Tensor,
                        batch_img_metas: List[dict],
                        rescale: bool = True,
                        results_list: Optional[list] = None,
                        **kwargs) -> List[InstanceData]:
        """Discretise, verify, score and pack the results.

        Returns:
            list[InstanceData]: per image ``masks`` (N, H, W) bool at
            ``ori_shape`` (``img_shape`` without ``rescale``), ``labels``
            (N,) int64, ``scores`` (N,) float32 and ``bboxes`` (N, 4) float32
            (tight boxes of the masks).
        """
        self._check_shapes(map_raw, batch_img_metas)
        cfg = self.test_cfg
        s = self.map_stride
        h, w = map_raw.shape[-2:]
        pred = F.relu(map_raw).detach()
        valid = torch.zeros_like(pred, dtype=torch.bool)
        for b, meta in enumerate(batch_img_metas):
            ih, iw = meta['img_shape'][:2]
            valid[b, :, :-(-ih // s), :-(-iw // s)] = True
        cands = self.discretizer(pred, valid)
        num = [len(c) for c in cands]
        if sum(num):
            cls_logits, iou_pred = self.verify_head(
                feat, pred, self._rois(cands, pred.device),
                torch.cat([c.means for c in cands]).to(pred.device),
                torch.cat([c.masks for c in cands]).to(pred.device))
            cls_logits = cls_logits.split(num)
            iou_pred = iou_pred.split(num)
        results = []
        for b, meta in enumerate(batch_img_metas):
            if num[b] == 0:
                results.append(self._empty(meta, rescale, pred.device))
                continue
            prob = cls_logits[b].float().softmax(-1)[:, :self.num_classes]
            s_cls, labels = prob.max(1)
            alpha = cfg['score_alpha']
            scores = alpha * iou_pred[b].float().clamp(0,
                                                       1) + (1 - alpha) * s_cls
            keep = scores >= cfg['score_thr']
            if not keep.any():
                results.append(self._empty(meta, rescale, pred.device))
                continue
            masks = cands[b].masks[keep]
            nms = cfg['nms']
            scores, labels, masks, _ = mask_matrix_nms(
                masks,
                labels[keep],
                scores[keep],
                filter_thr=nms.get('filter_thr', -1),
                nms_pre=nms.get('nms_pre', -1),
                max_num=cfg['max_per_img'],
                kernel=nms.get('kernel', 'gaussian'),
                sigma=nms.get('sigma', 2.0),
                mask_area=cands[b].areas[keep])
            if len(masks) == 0:
                results.append(self._empty(meta, rescale, pred.device))
                continue
            full, bboxes = self._upsample(masks, meta, rescale, (h, w))
            res = InstanceData()
            res.masks = full
            res.labels = labels.long()
            res.scores = scores.float()
            res.bboxes = bboxes
            results.append(res)
        return results

    def _out_shape(self, meta: dict, rescale: bool) -> Tuple[int, int]:
        return tuple(
            meta['ori_shape'][:2] if rescale else meta['img_shape'][:2])

    def _empty(self, meta: dict, rescale: bool, device) -> InstanceData:
        H, W = self._out_shape(meta, rescale)
        res = InstanceData()
        res.masks = torch.zeros((0, H, W), dtype=torch.bool, device=device)
        res.labels = torch.zeros((0, ), dtype=torch.long, device=device)
        res.scores = torch.zeros((0, ), dtype=torch.float32, device=device)
        res.bboxes = torch.zeros((0, 4), dtype=torch.float32, device=device)
        return res

    def _upsample(self, masks: Tensor, meta: dict, rescale: bool,
                  map_shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """Map-resolution masks -> bool masks at the output size (bilinear,
        thresholded at ``mask_thr``) and their tight boxes.

        When the output is the input image itself (no resize to
        ``ori_shape``), the map stride ``s`` is a power of two and
        ``mask_thr >= 0``, every mask is up-sampled on its bounding box plus
        one zero map pixel (:meth:`_upsample_crops`): with
        ``align_corners=False`` and a 0/1 mask the bilinear weights are
        multiples of 1/(2s) and every value is exact in float32, so the
        result is the whole-map path's bit for bit (tested), and the values
        outside the box are exactly 0. Otherwise :meth:`_upsample_resize`.

        Args:
            masks (Tensor): (N, h, w) bool masks on the map.
            meta (dict): the image's meta (``batch_input_shape``,
                ``img_shape``, ``ori_shape``).
            rescale (bool): output at ``ori_shape`` (else ``img_shape``).
            map_shape (tuple[int, int]): (h, w).

        Returns:
            tuple[Tensor, Tensor]: (N, H, W) bool masks and (N, 4) float32
            ``mask2bbox`` boxes.
        """
        bh, bw = meta['batch_input_shape']
        ih, iw = meta['img_shape'][:2]
        s = self.map_stride
        if (tuple(self._out_shape(meta, rescale)) == (ih, iw)
                and (bh, bw) == (map_shape[0] * s, map_shape[1] * s)
                and s & (s - 1) == 0 and self.test_cfg['mask_thr'] >= 0):
            return self._upsample_crops(masks, s, (ih, iw))
        full = self._upsample_resize(masks, meta, rescale)
        return full, mask2bbox(full).float()

    def _upsample_crops(self, masks: Tensor, s: int,
                        out_hw: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """:meth:`_upsample` on each mask's box plus one pixel (see there);
        (N, H, W) bool masks and their (N, 4) boxes."""
        N, h, w = masks.shape
        H, W = out_hw
        full = masks.new_zeros((N, H, W))
        bboxes = torch.zeros((N, 4), dtype=torch.float32, device=masks.device)
        rows, cols = masks.any(2), masks.any(1)
        for k in range(N):
            ys, xs = rows[k].nonzero()[:, 0], cols[k].nonzero()[:, 0]
            if len(ys) == 0:
                continue
            y0, y1 = max(int(ys[0]) - 1, 0), min(int(ys[-1]) + 2, h)
            x0, x1 = max(int(xs[0]) - 1, 0), min(int(xs[-1]) + 2, w)
            Y0, X0 = y0 * s, x0 * s
            Y1, X1 = min(y1 * s, H), min(x1 * s, W)
            if Y1 <= Y0 or X1 <= X0:  # the box lies in the padding
                continue
            up = F.interpolate(
                masks[k, y0:y1, x0:x1][None, None].float(),
                size=((y1 - y0) * s, (x1 - x0) * s),
                mode='bilinear',
                align_corners=False)[0, 0, :Y1 - Y0, :X1 - X0]
            part = up > self.test_cfg['mask_thr']
            full[k, Y0:Y1, X0:X1] = part
            if part.any():
                bboxes[k] = mask2bbox(
                    part[None])[0].float() + bboxes.new_tensor(
                        [X0, Y0, X0, Y0])
        return full, bboxes

    def _upsample_resize(self, masks: Tensor, meta: dict,
                         rescale: bool) -> Tensor:
        """Map-resolution masks -> bool masks at the output size, bilinear
        to the padded input, cropped, resized to ``ori_shape`` (with
        ``rescale``) and thresholded at ``mask_thr``, 16 masks at a time."""
        bh, bw = meta['batch_input_shape']
        ih, iw = meta['img_shape'][:2]
        out_hw = self._out_shape(meta, rescale)
        chunks = []
        for part in masks.split(16):
            m = F.interpolate(
                part[:, None].float(),
                size=(bh, bw),
                mode='bilinear',
                align_corners=False)[:, :, :ih, :iw]
            if rescale and tuple(out_hw) != (ih, iw):
                m = F.interpolate(
                    m, size=out_hw, mode='bilinear', align_corners=False)
            chunks.append(m[:, 0] > self.test_cfg['mask_thr'])
        return torch.cat(chunks)
