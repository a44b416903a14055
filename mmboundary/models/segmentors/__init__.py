# Copyright (c) mmboundary contributors. All rights reserved.
from .edge_attention_encoder_decoder import (EdgeAttentionEncoderDecoder,
                                             edge_attention_ce)

__all__ = ['EdgeAttentionEncoderDecoder', 'edge_attention_ce']
