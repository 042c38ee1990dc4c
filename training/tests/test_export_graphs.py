"""The restructured export graphs compute what the training modules compute."""

import torch

from ddt.export_graphs import DenoiserGraph, LlamaGraph, RendererGraph
from ddt.llm import KVCacheLlama, make_llm
from ddt.presets import PRESETS, LLMConfig
from ddt.tokenizer_model import DDTTokenizer, Renderer


def _randomise(module: torch.nn.Module, seed: int) -> None:
    # zero-initialised adaLN weights would hide mistakes in the fused modulation
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)


def test_denoiser_graph_matches_denoiser():
    tok = DDTTokenizer(PRESETS["tiny"].tokenizer).eval()
    _randomise(tok.denoiser, 1)
    cfg = tok.cfg
    g = torch.Generator().manual_seed(2)
    B = 4
    x_t = torch.randn(B, 3, cfg.image_size, cfg.image_size, generator=g)
    t = torch.tensor([0.0, 0.3, 0.7, 1.0])
    codes = torch.randint(0, cfg.codebook_size, (B, cfg.k), generator=g)
    mask = (torch.rand(B, cfg.k, generator=g) > 0.4).float()
    with torch.no_grad():
        ref = tok.denoiser(x_t, t, codes, mask)
        got = DenoiserGraph(tok.denoiser).eval()(x_t, t, codes, mask)
    assert ref.shape == got.shape
    assert torch.allclose(ref, got, atol=1e-4), float((ref - got).abs().max())


def test_renderer_starts_as_the_denoiser_at_t1_and_its_graph_matches_it():
    tok = DDTTokenizer(PRESETS["tiny"].tokenizer).eval()
    _randomise(tok.denoiser, 3)
    renderer = Renderer(tok.cfg, tok.fsq, extra_layers=2).eval()
    renderer.net.load_state_dict(tok.denoiser.state_dict(), strict=False)  # as train_renderer.py starts it
    cfg = tok.cfg
    g = torch.Generator().manual_seed(4)
    codes = torch.randint(0, cfg.codebook_size, (3, cfg.k), generator=g)
    mask = (torch.rand(3, cfg.k, generator=g) > 0.4).float()
    with torch.no_grad():
        at_t1 = tok.denoiser(torch.zeros(3, 3, cfg.image_size, cfg.image_size), torch.ones(3), codes, mask)
        assert torch.allclose(renderer(codes, mask), at_t1, atol=1e-6)  # the added blocks start as the identity
        _randomise(renderer, 5)
        ref = renderer(codes, mask)
        got = RendererGraph(DenoiserGraph(renderer.net)).eval()(codes, mask)
    assert renderer.extra_layers == 2 and ref.shape == (3, 3, cfg.image_size, cfg.image_size)
    assert torch.allclose(ref, got, atol=1e-4), float((ref - got).abs().max())


def _llama_case():
    """A small grouped-head LLM and 2 rows of 9 tokens, the second left-padded by 3."""
    torch.manual_seed(0)
    model = make_llm(LLMConfig(hidden=32, layers=2, heads=4, kv_heads=2, intermediate=64), 50).eval()
    ids = torch.randint(0, 50, (2, 9))
    attn = torch.ones(2, 9, dtype=torch.long)
    attn[1, :3] = 0  # left padding
    pos = torch.clamp(torch.cumsum(attn, 1) - 1, min=0)
    return KVCacheLlama(model).eval(), ids, attn, pos


def test_llama_graph_matches_kv_cache_wrapper_with_grouped_heads_and_padding():
    ref, ids, attn, pos = _llama_case()
    fused = LlamaGraph(ref).eval()
    with torch.no_grad():
        want = ref(ids[:, :6], attn[:, :6], pos[:, :6], *ref.empty_past(2))
        got = fused(ids[:, :6], attn[:, :6], pos[:, :6], *ref.empty_past(2))
        for a, b in zip(want, got):
            assert torch.allclose(a, b, atol=1e-5)
        want = ref(ids[:, 6:], attn, pos[:, 6:], *want[1:])
        got = fused(ids[:, 6:], attn, pos[:, 6:], *got[1:])
        for a, b in zip(want, got):
            assert torch.allclose(a, b, atol=1e-5)


def test_llama_graph_buffer_mode_matches_append_mode_with_garbage_in_free_slots():
    ref, ids, attn, pos = _llama_case()
    append, buffer = LlamaGraph(ref).eval(), LlamaGraph(ref, kv_cache="buffer").eval()
    with torch.no_grad():
        want = append(ids[:, :6], attn[:, :6], pos[:, :6], *ref.empty_past(2))
        got = buffer(ids[:, :6], attn[:, :6], pos[:, :6], *ref.empty_past(2))
        for a, b in zip(want, got):  # an empty buffer: the presents are the prefill's keys/values
            assert torch.allclose(a, b, atol=1e-5)
        # a buffer of 10 slots: the 6 cached positions, then 4 free slots holding garbage the mask hides
        bufs = [torch.cat([t, torch.randn(2, t.shape[1], 4, t.shape[3]) * 100], dim=2) for t in got[1:]]
        mask = torch.cat([attn[:, :6], torch.zeros(2, 4, dtype=torch.long), attn[:, 6:]], dim=1)
        want = append(ids[:, 6:], attn, pos[:, 6:], *want[1:])
        got = buffer(ids[:, 6:], mask, pos[:, 6:], *bufs)
        assert torch.allclose(want[0], got[0], atol=1e-5)
        for a, b in zip(want[1:], got[1:]):  # the new tokens' keys/values only
            assert torch.allclose(a[:, :, 6:], b, atol=1e-5)
