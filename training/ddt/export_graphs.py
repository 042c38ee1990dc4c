"""Inference-only graphs for ONNX export: the same maths as the training modules, restructured so that the
exported graphs have few, large nodes.

ONNX Runtime pays a fixed cost per node (a few microseconds), which dominates a decode step of a small
model: the straight export of the LLM ran ~250 nodes per token whose kernels summed to less than half of
the step, and the denoiser ~420 (the per-head shape arithmetic, q/k/v and adaLN pieces). Here:
- weights are fused at export: q/k/v (and their rotate-half images, for rotary) in one matrix, gate and
  up projections in one, all adaLN modulations of the denoiser in one; constant scales and offsets
  (1/sqrt(head_dim), the "1 +" of adaLN, positional embeddings) are folded into weights and biases;
- reshapes use static sizes (-1 for the batch), so no Shape/Gather/Concat arithmetic is exported;
- rotary cos/sin come from a precomputed table indexed by position_ids.
- KV cache "buffer" mode (kv_cache="buffer"): past keys/values arrive in a buffer [B, kv_heads, C, head_dim]
  of which only the slots the attention mask marks are real, and present.{i}.key|value are the S new
  tokens' keys/values only. The runtime writes them into its buffer in place. With the HF "append"
  convention every step returns the whole cache, and onnxruntime-node copies every output into a new
  JavaScript buffer: for a 16-row step of the bundled model that copy cost as much as the attention and
  MLP kernels together (3.6 ms a step against 2.5 ms with new tokens only, measured here).
Parity with the training modules is checked by export.check_parity and training/tests/test_export_graphs.py.
The PyTorch reference pipeline (ddt/pipeline.py, bench_reference.py) keeps running the training modules.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .llm import KVCacheLlama
from .tokenizer_model import Block, Denoiser


def _rms(x, w, eps):
    # written like RMSNorm.forward so that ONNX Runtime fuses it into SimplifiedLayerNormalization
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def _frozen(ws) -> nn.ParameterList:
    return nn.ParameterList(nn.Parameter(w.detach().clone(), requires_grad=False) for w in ws)


def _rotate_half_rows(w: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    """Rows R such that x @ R.T == rotate_half(x @ w.T) per head (rotate_half: [a, b] -> [-b, a])."""
    w = w.reshape(heads, head_dim, -1)
    a, b = w[:, : head_dim // 2], w[:, head_dim // 2:]
    return torch.cat([-b, a], dim=1).reshape(heads * head_dim, -1)


class LlamaGraph(nn.Module):
    """KVCacheLlama's interface and maths with fused projections (see the module docstring)."""

    def __init__(self, ref: KVCacheLlama, kv_cache: str = "append"):
        super().__init__()
        if kv_cache not in ("append", "buffer"):
            raise ValueError(f"kv_cache must be append or buffer, not {kv_cache!r}")
        self.kv_cache = kv_cache
        m = ref.m
        self.layers, self.heads, self.kv_heads, self.head_dim = ref.layers, ref.heads, ref.kv_heads, ref.head_dim
        self.eps = ref.eps
        self.embed = m.model.embed_tokens
        self.lm_head = m.lm_head
        self.final_norm = m.model.norm.weight
        H, KV, hd = self.heads, self.kv_heads, self.head_dim
        scale = hd**-0.5
        qkv, gate_up, o, down, n1, n2 = [], [], [], [], [], []
        for layer in m.model.layers:
            a, mlp = layer.self_attn, layer.mlp
            wq, wk, wv = a.q_proj.weight * scale, a.k_proj.weight, a.v_proj.weight
            # output columns: q, k, v, rotate_half(q), rotate_half(k)
            qkv.append(torch.cat([wq, wk, wv, _rotate_half_rows(wq, H, hd), _rotate_half_rows(wk, KV, hd)]))
            gate_up.append(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]))
            o.append(a.o_proj.weight)
            down.append(mlp.down_proj.weight)
            n1.append(layer.input_layernorm.weight)
            n2.append(layer.post_attention_layernorm.weight)
        self.qkv, self.gate_up, self.o, self.down = _frozen(qkv), _frozen(gate_up), _frozen(o), _frozen(down)
        self.n1, self.n2 = _frozen(n1), _frozen(n2)
        self.intermediate = m.config.intermediate_size
        pos = torch.arange(m.config.max_position_embeddings, dtype=torch.float32)
        freqs = pos[:, None] * ref.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos_table", emb.cos(), persistent=False)
        self.register_buffer("sin_table", emb.sin(), persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        """append: attention_mask [B, P + S], past [B, KV, P, hd], presents [B, KV, P + S, hd] (the HF
        convention). buffer: attention_mask [B, C + S] (the buffer's C slots, then the S new tokens), past
        [B, KV, C, hd], presents [B, KV, S, hd] (the new tokens only)."""
        H, KV, hd = self.heads, self.kv_heads, self.head_dim
        S = input_ids.shape[1]
        h = self.embed(input_ids)
        cos = F.embedding(position_ids, self.cos_table)[:, None]  # [B,1,S,hd]
        sin = F.embedding(position_ids, self.sin_table)[:, None]
        P = past[0].shape[2]
        zero, block = torch.zeros((), dtype=h.dtype), torch.full((), -1e9, dtype=h.dtype)
        if self.kv_cache == "append":
            q_pos = torch.arange(S)[:, None] + P
            k_pos = torch.arange(P + S)[None, :]
            allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
            bias = torch.where(allowed, zero, block)
        else:
            causal = (torch.arange(S)[None, :] <= torch.arange(S)[:, None])[None, None]
            bias_past = torch.where(attention_mask[:, None, None, :P] > 0, zero, block)  # [B,1,1,C]
            bias_new = torch.where(causal & (attention_mask[:, None, None, P:] > 0), zero, block)  # [B,1,S,S]
        presents = []
        rep = H // KV
        for i in range(self.layers):
            x = _rms(h, self.n1[i], self.eps)
            proj = F.linear(x, self.qkv[i]).reshape(-1, S, 2 * H + 3 * KV, hd).transpose(1, 2)
            qk, v, qk_rot = proj.split([H + KV, KV, H + KV], dim=1)
            q, k = (qk * cos + qk_rot * sin).split([H, KV], dim=1)
            if self.kv_cache == "append":
                k = torch.cat([past[2 * i], k], dim=2)
                v = torch.cat([past[2 * i + 1], v], dim=2)
                presents += [k, v]
                kr = k.repeat_interleave(rep, dim=1) if rep > 1 else k
                vr = v.repeat_interleave(rep, dim=1) if rep > 1 else v
                att = q @ kr.transpose(-1, -2) + bias
                o = att.softmax(-1) @ vr
            else:
                presents += [k, v]
                pk, pv = past[2 * i], past[2 * i + 1]
                if rep > 1:
                    pk, pv, k, v = (t.repeat_interleave(rep, dim=1) for t in (pk, pv, k, v))
                # scores over the buffer and over the new tokens, one softmax across both: no cache copy
                att = torch.cat([q @ pk.transpose(-1, -2) + bias_past, q @ k.transpose(-1, -2) + bias_new], -1)
                a_past, a_new = att.softmax(-1).split([P, S], dim=-1)
                o = a_past @ pv + a_new @ v
            o = o.transpose(1, 2).reshape(-1, S, H * hd)
            h = h + F.linear(o, self.o[i])
            x = _rms(h, self.n2[i], self.eps)
            gate, up = F.linear(x, self.gate_up[i]).split(self.intermediate, dim=-1)
            h = h + F.linear(F.silu(gate) * up, self.down[i])
        h = _rms(h, self.final_norm, self.eps)
        return (self.lm_head(h), *presents)


class BlockGraph(nn.Module):
    """A conditioned Block with static reshapes and 1/sqrt(head_dim) folded into the q weights."""

    def __init__(self, block: Block, tokens: int):
        super().__init__()
        w = block.qkv.weight.shape[1]
        self.heads, self.width, self.tokens = block.heads, w, tokens
        self.eps = block.n1.eps
        hd = w // block.heads
        scale = torch.ones(3 * w, 1)
        scale[:w] = hd**-0.5
        self.qkv = nn.Linear(w, 3 * w)
        self.qkv.weight.data = block.qkv.weight.detach() * scale
        self.qkv.bias.data = block.qkv.bias.detach() * scale[:, 0]
        self.proj, self.mlp, self.n1, self.n2 = block.proj, block.mlp, block.n1.weight, block.n2.weight

    def forward(self, x, mod, key_bias, rows: int | None = None):
        """rows: only the first `rows` positions are needed after this block (they still attend to all)."""
        s1, b1, g1, s2, b2, g2 = mod  # each [B,1,W]; s1, s2 already include the "1 +"
        H, N, W = self.heads, self.tokens, self.width
        h = _rms(x, self.n1, self.eps) * s1 + b1
        q, k, v = self.qkv(h).reshape(-1, N, 3 * H, W // H).transpose(1, 2).split(H, dim=1)
        if rows is not None:
            q, x = q[:, :, :rows], x[:, :rows]
        att = q @ k.transpose(-1, -2) + key_bias
        h = (att.softmax(-1) @ v).transpose(1, 2).reshape(-1, rows or N, W)
        x = x + g1 * self.proj(h)
        h = _rms(x, self.n2, self.eps) * s2 + b2
        return x + g2 * self.mlp(h)


class DenoiserGraph(nn.Module):
    """Denoiser.forward with static shapes, one fused adaLN projection and folded positional embeddings."""

    def __init__(self, den: Denoiser):
        super().__init__()
        cfg = den.cfg
        self.cfg = cfg
        w, k, n = cfg.dec_width, cfg.k, cfg.num_patches
        self.register_buffer("table", den.fsq.table.clone(), persistent=False)
        self.preview = den.preview
        self.tok_in = nn.Linear(den.tok_in.in_features, w, bias=False)
        self.tok_in.weight.data = den.tok_in.weight.detach().clone()
        self.register_buffer("tok_shift", (den.tok_in.bias + den.tok_pos[0]).detach().clone(), persistent=False)
        self.register_buffer("hidden", (den.hidden_tok + den.tok_pos)[0].detach().clone(), persistent=False)
        self.patch_in = nn.Linear(den.patch_in.in_features, w, bias=False)
        self.patch_in.weight.data = den.patch_in.weight.detach().clone()
        self.register_buffer("patch_shift", (den.patch_in.bias + den.pos[0]).detach().clone(), persistent=False)
        half = w // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)  # timestep_embedding
        self.register_buffer("t_freqs", freqs * 1000.0, persistent=False)
        self.t_mlp = den.t_mlp
        # all blocks' adaLN projections in one matrix, "1 +" of the scales folded into the bias
        ws = torch.cat([b.mod.weight for b in den.blocks]).detach().clone()
        bs = torch.cat([b.mod.bias for b in den.blocks]).detach().clone().reshape(len(den.blocks), 6, w)
        bs[:, 0] += 1.0
        bs[:, 3] += 1.0
        self.mod = nn.Linear(w, ws.shape[0])
        self.mod.weight.data, self.mod.bias.data = ws, bs.reshape(-1)
        self.blocks = nn.ModuleList(BlockGraph(b, n + k) for b in den.blocks)
        self.norm, self.eps, self.out = den.norm.weight, den.norm.eps, den.out

    def forward(self, x_t, t, codes, mask):
        return self.denoise(x_t, self.modulations(t), codes, mask)

    def modulations(self, t):
        """The blocks' adaLN modulations for timesteps t [B]: [B, 1, 6 * blocks * width]."""
        args = t[:, None] * self.t_freqs[None]
        c = self.t_mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))
        return self.mod(c)[:, None, :]

    def denoise(self, x_t, mod, codes, mask):
        """x0 from the blocks' adaLN modulations `mod` [B or 1, 1, 6 * blocks * width] (computed from t)."""
        cfg = self.cfg
        s, n, w = cfg.image_size, cfg.num_patches, cfg.dec_width
        values = F.embedding(codes, self.table)  # [B,K,D]
        m = mask[..., None]
        prev = self.preview(torch.cat([values * m, m], dim=-1).flatten(1)).reshape(-1, 3, s, s)
        tok = torch.where(m > 0.5, self.tok_in(values) + self.tok_shift, self.hidden)
        h = self.patch_in(patchify_static(torch.cat([x_t, prev], dim=1), cfg.patch, 6, s)) + self.patch_shift
        h = torch.cat([h, tok], dim=1)
        key_bias = F.pad((mask - 1.0) * 1e4, (n, 0))[:, None, None, :]  # patches always visible
        mods = mod.split(w, dim=-1)
        last = len(self.blocks) - 1
        for i, b in enumerate(self.blocks):
            # the output reads patch positions only: the last block computes queries and MLP for those alone
            h = b(h, mods[6 * i: 6 * i + 6], key_bias, rows=n if i == last else None)
        x0 = self.out(_rms(h, self.norm, self.eps))
        return unpatchify_static(x0, cfg.patch, 3, s)


class RendererGraph(nn.Module):
    """The one-step renderer (ddt.tokenizer_model.Renderer) as a graph: its network at t = 1 on zeros, over the
    export form of the denoiser (codes, mask -> x0; docs/model-package.md). t is fixed, so the blocks'
    modulations are constants computed here: the graph holds neither the timestep MLP nor the modulation
    matrix. The decoder's other weights, where the renderer left them unchanged, are byte for byte the denoiser
    graph's, and export.py stores them once for both (ddt/shared_weights.py)."""

    def __init__(self, den: DenoiserGraph):
        super().__init__()
        self.den = den
        with torch.no_grad():
            self.register_buffer("mod", den.modulations(torch.ones(1)).clone(), persistent=False)

    def forward(self, codes, mask):
        s = self.den.cfg.image_size
        zeros = torch.zeros_like(mask[:, :1, None, None]).expand(-1, 3, s, s)
        return self.den.denoise(zeros, self.mod, codes, mask)


def patchify_static(x: torch.Tensor, p: int, c: int, size: int) -> torch.Tensor:
    """patchify with the batch as the only dynamic size (ddt.tokenizer_model.patchify reads x.shape)."""
    g = size // p
    x = x.reshape(-1, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(-1, g * g, c * p * p)


def unpatchify_static(x: torch.Tensor, p: int, c: int, size: int) -> torch.Tensor:
    g = size // p
    x = x.reshape(-1, g, g, c, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(-1, c, size, size)


