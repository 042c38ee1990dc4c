"""DDT tokenizer: a 1-D encoder with finite scalar quantisation and a timestep-bound diffusion decoder.

Encoder: ViT over image patches plus K learnable queries -> K vectors -> FSQ codes (K ids).
Decoder: one denoising step of a rectified-flow model that predicts x0. At noise level t it sees only
code indices j < k(t) (an expanding prefix as noise grows): the codes visible only at high noise carry
coarse attributes (layout, colour), the ones visible everywhere carry fine detail. A small "preview"
head maps the visible codes to a coarse image that the denoiser takes as extra input channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TokenizerConfig:
    image_size: int = 32
    patch: int = 4
    k: int = 16  # tokens per image
    levels: tuple[int, ...] = (8, 8, 8)  # FSQ levels per token -> codebook 512
    enc_width: int = 128
    enc_layers: int = 3
    dec_width: int = 160
    dec_layers: int = 4
    heads: int = 4
    preview_hidden: int = 512
    # k(t) knots [t, k]; k = ceil(lerp), clamp [1, K]
    knots: list = field(default_factory=lambda: [[0.0, 2], [0.25, 5], [0.5, 9], [0.75, 13], [1.0, 16]])

    @property
    def codebook_size(self) -> int:
        return math.prod(self.levels)

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch) ** 2


def visible_count(t: torch.Tensor, knots, k: int) -> torch.Tensor:
    """k(t) for a batch of t in [0, 1]: piecewise-linear through the knots, ceil, clamp [1, K]. [B] int64."""
    ts = torch.tensor([a for a, _ in knots], dtype=t.dtype, device=t.device)
    ks = torch.tensor([b for _, b in knots], dtype=t.dtype, device=t.device)
    idx = torch.clamp(torch.searchsorted(ts, t.contiguous(), right=True) - 1, 0, len(knots) - 2)
    t0, t1, k0, k1 = ts[idx], ts[idx + 1], ks[idx], ks[idx + 1]
    val = k0 + (k1 - k0) * torch.clamp((t - t0) / (t1 - t0), 0, 1)
    # small epsilon so float noise at a knot does not round up a whole token
    return torch.clamp(torch.ceil(val - 1e-4), 1, k).long()


def schedule_mask(t: torch.Tensor, knots, k: int) -> torch.Tensor:
    """[B] t -> [B, K] float mask of code indices visible at t."""
    n = visible_count(t, knots, k)
    return (torch.arange(k, device=t.device)[None, :] < n[:, None]).float()


def keep_mask(keep: torch.Tensor, k: int) -> torch.Tensor:
    """[B] number of coarsest codes kept -> [B, K] mask (code indices K-keep..K-1)."""
    return (torch.arange(k, device=keep.device)[None, :] >= (k - keep)[:, None]).float()


class RMSNorm(nn.Module):
    # explicit weight: a scale-free norm exported as an invalid ONNX model in the prototype
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    """Pre-norm transformer block; optional adaLN modulation by a conditioning vector."""

    def __init__(self, width: int, heads: int, cond: bool = False):
        super().__init__()
        self.heads = heads
        self.n1, self.n2 = RMSNorm(width), RMSNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width))
        self.mod = nn.Linear(width, 6 * width) if cond else None
        if self.mod is not None:
            nn.init.zeros_(self.mod.weight)
            nn.init.zeros_(self.mod.bias)

    def forward(self, x, c=None, key_bias=None):
        # x [B, N, W]; c [B, W]; key_bias [B, 1, 1, N] additive (0 or -inf-ish)
        if self.mod is not None:
            s1, b1, g1, s2, b2, g2 = self.mod(c)[:, None, :].chunk(6, dim=-1)
        else:
            s1 = b1 = s2 = b2 = 0.0
            g1 = g2 = 1.0
        h = self.n1(x) * (1 + s1) + b1
        B, N, W = h.shape
        q, k, v = self.qkv(h).reshape(B, N, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(W // self.heads))
        if key_bias is not None:
            att = att + key_bias
        h = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, N, W)
        x = x + g1 * self.proj(h)
        h = self.n2(x) * (1 + s2) + b2
        return x + g2 * self.mlp(h)


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    # [B, C, H, W] -> [B, (H/p)*(W/p), C*p*p]
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, (H // p) * (W // p), C * p * p)


def unpatchify(x: torch.Tensor, p: int, c: int, size: int) -> torch.Tensor:
    # [B, N, C*p*p] -> [B, C, H, W]
    B = x.shape[0]
    g = size // p
    x = x.reshape(B, g, g, c, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, c, size, size)


class FSQ(nn.Module):
    """Finite scalar quantisation: nothing to collapse, every code reachable."""

    def __init__(self, levels):
        super().__init__()
        self.levels = list(levels)
        basis = [1]
        for lv in reversed(self.levels[1:]):
            basis.insert(0, basis[0] * lv)
        self.register_buffer("basis", torch.tensor(basis, dtype=torch.long), persistent=False)
        self.register_buffer("lv", torch.tensor(self.levels, dtype=torch.float32), persistent=False)
        # code id -> dequantised values in [-1, 1], [codebook, D]
        grid = torch.stack(
            torch.meshgrid(*[torch.arange(lv) for lv in self.levels], indexing="ij"), dim=-1
        ).reshape(-1, len(self.levels))
        self.register_buffer("table", grid.float() / (self.lv - 1) * 2 - 1, persistent=False)

    def quantize(self, z):
        # z [B, K, D] -> (values in [-1,1] with straight-through gradient, codes [B, K] int64)
        # Clamp with an identity gradient: a tanh bound saturated early and its vanishing gradient
        # froze every token on one code (measured: 1 code in use after 75 steps).
        zb = z + (z.clamp(-1.0, 1.0) - z).detach()
        scaled = (zb + 1) / 2 * (self.lv - 1)
        rounded = torch.round(scaled)
        q = scaled + (rounded - scaled).detach()
        codes = (rounded.long() * self.basis).sum(-1)
        return q / (self.lv - 1) * 2 - 1, codes

    def lookup(self, codes):
        return self.table[codes]


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.enc_width
        self.patch_in = nn.Linear(3 * cfg.patch**2, w)
        self.pos = nn.Parameter(torch.randn(1, cfg.num_patches, w) * 0.02)
        self.queries = nn.Parameter(torch.randn(1, cfg.k, w) * 0.02)
        self.blocks = nn.ModuleList(Block(w, cfg.heads) for _ in range(cfg.enc_layers))
        self.norm = RMSNorm(w)
        self.out = nn.Linear(w, len(cfg.levels))
        # Standardise every (token, dim) feature across images before quantising: without it the outputs
        # barely varied between images and rounded to 1-10 codes in total (measured).
        self.spread = nn.BatchNorm1d(cfg.k * len(cfg.levels), affine=False, momentum=0.01)

    def forward(self, x):
        # x [B, 3, H, W] in [-1, 1] -> pre-quantisation [B, K, D]
        h = torch.cat([self.patch_in(patchify(x, self.cfg.patch)) + self.pos,
                       self.queries.expand(x.shape[0], -1, -1)], dim=1)
        for b in self.blocks:
            h = b(h)
        z = self.out(self.norm(h[:, -self.cfg.k:]))  # [B, K, D]
        flat = z.reshape(-1, self.cfg.k * len(self.cfg.levels))
        if self.training:
            flat = self.spread(flat)
        else:  # explicit arithmetic in eval: exports cleanly (ONNX BatchNorm needs a known channel size)
            flat = (flat - self.spread.running_mean) * torch.rsqrt(self.spread.running_var + self.spread.eps)
        return 0.6 * flat.reshape(-1, self.cfg.k, len(self.cfg.levels))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None] * 1000.0 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Denoiser(nn.Module):
    """One denoising step: (x_t, t, codes, mask) -> x0 prediction."""

    def __init__(self, cfg: TokenizerConfig, fsq: FSQ):
        super().__init__()
        self.cfg = cfg
        self.fsq = fsq
        w, k, d = cfg.dec_width, cfg.k, len(cfg.levels)
        self.tok_in = nn.Linear(d, w)
        self.tok_pos = nn.Parameter(torch.randn(1, k, w) * 0.02)
        self.hidden_tok = nn.Parameter(torch.zeros(1, 1, w))
        # preview head: visible codes -> coarse image [3, H, W]
        px = 3 * cfg.image_size**2
        self.preview = nn.Sequential(nn.Linear(k * (d + 1), cfg.preview_hidden), nn.GELU(approximate="tanh"),
                                     nn.Linear(cfg.preview_hidden, cfg.preview_hidden), nn.GELU(approximate="tanh"),
                                     nn.Linear(cfg.preview_hidden, px))
        self.patch_in = nn.Linear(6 * cfg.patch**2, w)
        self.pos = nn.Parameter(torch.randn(1, cfg.num_patches, w) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(Block(w, cfg.heads, cond=True) for _ in range(cfg.dec_layers))
        self.norm = RMSNorm(w)
        self.out = nn.Linear(w, 3 * cfg.patch**2)

    def preview_image(self, values, mask):
        # values [B, K, D] in [-1,1], mask [B, K] -> [B, 3, H, W]
        feats = torch.cat([values * mask[..., None], mask[..., None]], dim=-1).flatten(1)
        s = self.cfg.image_size
        return self.preview(feats).reshape(-1, 3, s, s)

    def forward_values(self, x_t, t, values, mask):
        cfg = self.cfg
        prev = self.preview_image(values, mask)
        tok = self.tok_in(values) + self.tok_pos
        tok = torch.where(mask[..., None] > 0.5, tok, self.hidden_tok + self.tok_pos)
        h = self.patch_in(patchify(torch.cat([x_t, prev], dim=1), cfg.patch)) + self.pos
        h = torch.cat([h, tok], dim=1)
        # hidden tokens are never attended to: -1e4 (finite, ONNX/fp16 friendly)
        key_bias = torch.cat([mask.new_zeros(mask.shape[0], cfg.num_patches), (mask - 1.0) * 1e4], dim=1)
        key_bias = key_bias[:, None, None, :]
        c = self.t_mlp(timestep_embedding(t, cfg.dec_width))
        for b in self.blocks:
            h = b(h, c, key_bias)
        x0 = unpatchify(self.out(self.norm(h[:, : cfg.num_patches])), cfg.patch, 3, cfg.image_size)
        return x0, prev

    def forward(self, x_t, t, codes, mask):
        x0, _ = self.forward_values(x_t, t, self.fsq.lookup(codes), mask)
        return x0


class DDTTokenizer(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        self.fsq = FSQ(cfg.levels)
        self.encoder = Encoder(cfg)
        self.denoiser = Denoiser(cfg, self.fsq)

    def encode(self, x):
        """x [B, 3, H, W] in [-1, 1] -> codes [B, K] int64."""
        return self.fsq.quantize(self.encoder(x))[1]

    def loss(self, x, gen: torch.Generator | None = None, partial_frac: float = 0.15):
        B, K = x.shape[0], self.cfg.k
        z = self.encoder(x)
        values, codes = self.fsq.quantize(z)
        # random draws on the CPU generator, then moved: the same stream on any device
        u = torch.rand(B, generator=gen)
        # more training at high noise, where the tokens (not the image) must carry the content
        t = torch.where(torch.rand(B, generator=gen) < 0.5, u, u.sqrt()).clamp(0.0, 1.0).to(x.device)
        eps = torch.randn(x.shape, generator=gen).to(x.device)
        x_t = t[:, None, None, None] * eps + (1 - t[:, None, None, None]) * x
        mask = schedule_mask(t, self.cfg.knots, K)
        # some samples keep only the m coarsest codes, so partial decoding (previews, reveal) stays meaningful
        m = torch.randint(1, K + 1, (B,), generator=gen).to(x.device)
        partial = (torch.rand(B, generator=gen) < partial_frac).to(x.device)
        keep = torch.where(partial, m, torch.full_like(m, K))
        mask = mask * keep_mask(keep, K)
        x0, prev = self.denoiser.forward_values(x_t, t, values, mask)
        # the preview sees all kept codes (t=1 schedule) so it learns the coarse image from them
        full = keep_mask(keep, K)
        prev_full = self.denoiser.preview_image(values, full)
        l_x0 = F.mse_loss(x0, x)
        l_prev = F.mse_loss(prev_full, x) + 0.5 * F.mse_loss(prev, x)
        # keep encoder outputs inside the quantiser's range, where the straight-through gradient is honest
        l_range = F.relu(z.abs() - 1.0).pow(2).mean()
        loss = l_x0 + 0.5 * l_prev + 0.1 * l_range
        return loss, {"x0": l_x0.item(), "preview": l_prev.item(), "range": l_range.item()}, codes


@torch.no_grad()
def sample(denoiser: Denoiser, codes, keep, steps: int, noise: torch.Tensor, knots):
    """Reference sampler (mirrors the TypeScript runtime). codes [B,K], keep [B], noise [B,3,H,W]."""
    K = codes.shape[1]
    x = noise.clone()
    km = keep_mask(keep, K)
    x0 = x
    for i in range(steps):
        t = 1.0 - i / steps
        t_next = 1.0 - (i + 1) / steps
        tt = torch.full((codes.shape[0],), t, device=codes.device)
        mask = schedule_mask(tt, knots, K) * km
        x0 = denoiser(x, tt, codes, mask).clamp(-1, 1)
        eps_hat = (x - (1 - t) * x0) / t
        x = t_next * eps_hat + (1 - t_next) * x0
    return x0


class Renderer(nn.Module):
    """One-step renderer (docs/model-package.md, `graphs.renderer`): the kept codes -> x0, with no noise and no t.

    It is the decoder's network evaluated at t = 1, where the noise input carries nothing about the image (fed
    zeros, its mean: same reconstructions as from noise, measured), and fine-tuned there alone
    (train_renderer.py). The sampler trains every t with one network; the renderer spends its capacity on the
    one call that decodes an image in the default path.
    """

    def __init__(self, cfg: TokenizerConfig, fsq: FSQ, extra_layers: int = 0):
        super().__init__()
        self.cfg = cfg
        self.net = Denoiser(cfg, fsq)
        # blocks beyond the decoder's: adaLN-zero, so each starts as the identity and the renderer as the decoder
        for _ in range(extra_layers):
            self.net.blocks.append(Block(cfg.dec_width, cfg.heads, cond=True))

    @property
    def extra_layers(self) -> int:
        return len(self.net.blocks) - self.cfg.dec_layers

    @property
    def added_prefixes(self) -> tuple[str, ...]:
        """State-dict prefixes of the blocks beyond the decoder's."""
        first = self.cfg.dec_layers
        return tuple(f"net.blocks.{i}." for i in range(first, first + self.extra_layers))

    def load_slim(self, decoder_state: dict, added: dict) -> None:
        """The decoder's weights (`decoder_state`, a Denoiser's) and the added blocks of a slim checkpoint
        (`added`, float16 as committed): every added block must be there, and nothing else."""
        self.net.load_state_dict(decoder_state, strict=False)
        result = self.load_state_dict({k: v.float() for k, v in added.items()}, strict=False)
        assert not result.unexpected_keys, result.unexpected_keys
        assert all(not k.startswith(self.added_prefixes) for k in result.missing_keys), result.missing_keys

    def forward(self, codes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, s = codes.shape[0], self.cfg.image_size
        return self.net(mask.new_zeros(B, 3, s, s), mask.new_ones(B), codes, mask)
