"""The MLLM: a Hugging Face LlamaForCausalLM with a small config, and an export wrapper with an explicit
KV cache (`past_key_values.{i}.key|value` -> `present.{i}.key|value`), the layout a Llama-3-based
DDT-LLaMA exports to.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from transformers import LlamaConfig, LlamaForCausalLM

from .presets import LLMConfig


def make_llm(cfg: LLMConfig, vocab_size: int) -> LlamaForCausalLM:
    conf = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden,
        intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.kv_heads,
        max_position_embeddings=cfg.max_positions,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        attention_dropout=0.0,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    conf._attn_implementation = "eager"
    return LlamaForCausalLM(conf)


def _rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class KVCacheLlama(nn.Module):
    """Same maths as LlamaForCausalLM (eager attention), with the cache as plain tensors.

    Inputs: input_ids [B,S] int64, attention_mask [B,P+S] int64 (0 = padding), position_ids [B,S] int64,
    past keys/values [B,kv,P,hd]. Outputs: logits [B,S,V], present keys/values [B,kv,P+S,hd].
    Checked against the Hugging Face forward in tests (training/tests/test_export.py).
    """

    def __init__(self, model: LlamaForCausalLM):
        super().__init__()
        self.m = model
        c = model.config
        self.layers = c.num_hidden_layers
        self.heads = c.num_attention_heads
        self.kv_heads = c.num_key_value_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.eps = c.rms_norm_eps
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def _norm(self, x, w):
        # explicit arithmetic: exports cleanly and matches LlamaRMSNorm in fp32
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, input_ids, attention_mask, position_ids, *past):
        B, S = input_ids.shape
        h = self.m.model.embed_tokens(input_ids)
        freqs = position_ids[..., None].float() * self.inv_freq[None, None, :]  # [B,S,hd/2]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # [B,1,S,hd]
        P = past[0].shape[2]
        T = P + S
        # causal + padding mask: query i (absolute P+i) sees keys j <= P+i with attention_mask[j] = 1
        q_pos = torch.arange(S)[:, None] + P
        k_pos = torch.arange(T)[None, :]
        allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros((), dtype=h.dtype), torch.full((), -1e9, dtype=h.dtype))
        presents = []
        rep = self.heads // self.kv_heads
        for i, layer in enumerate(self.m.model.layers):
            a = layer.self_attn
            x = self._norm(h, layer.input_layernorm.weight)
            q = a.q_proj(x).view(B, S, self.heads, self.head_dim).transpose(1, 2)
            k = a.k_proj(x).view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
            v = a.v_proj(x).view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            kr = k.repeat_interleave(rep, dim=1) if rep > 1 else k
            vr = v.repeat_interleave(rep, dim=1) if rep > 1 else v
            att = (q @ kr.transpose(-1, -2)) * (self.head_dim**-0.5) + bias
            o = (att.softmax(-1) @ vr).transpose(1, 2).reshape(B, S, -1)
            h = h + a.o_proj(o)
            x = self._norm(h, layer.post_attention_layernorm.weight)
            mlp = layer.mlp
            h = h + mlp.down_proj(nn.functional.silu(mlp.gate_proj(x)) * mlp.up_proj(x))
        h = self._norm(h, self.m.model.norm.weight)
        return (self.m.lm_head(h), *presents)

    def empty_past(self, batch: int):
        z = torch.zeros(batch, self.kv_heads, 0, self.head_dim)
        return [z.clone() for _ in range(2 * self.layers)]
