import torch

from ddt.llm import KVCacheLlama, make_llm
from ddt.presets import LLMConfig


def test_kv_cache_wrapper_matches_hugging_face_forward():
    torch.manual_seed(0)
    model = make_llm(LLMConfig(hidden=32, layers=2, heads=4, kv_heads=2, intermediate=64), 50).eval()
    wrap = KVCacheLlama(model).eval()
    ids = torch.randint(0, 50, (1, 9))
    attn = torch.ones(1, 9, dtype=torch.long)
    pos = torch.arange(9)[None]
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=attn).logits
        full = wrap(ids, attn, pos, *wrap.empty_past(1))
        assert torch.allclose(full[0], ref, atol=1e-5)
        first = wrap(ids[:, :5], attn[:, :5], pos[:, :5], *wrap.empty_past(1))
        step = wrap(ids[:, 5:], attn, pos[:, 5:], *first[1:])
        assert torch.allclose(step[0], ref[:, 5:], atol=1e-5)
