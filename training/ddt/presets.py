"""Named presets: every size and step count lives here, not scattered through scripts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .language import caption_phrase_classes
from .tokenizer_model import TokenizerConfig


@dataclass
class LLMConfig:
    # sized for 2 CPU cores: 256x6 ran at 37 s/step (batch 64, one loaded core), 192x4 at 13 s
    hidden: int = 192
    layers: int = 4
    heads: int = 4
    kv_heads: int = 4
    intermediate: int = 512
    max_positions: int = 512


@dataclass(frozen=True)
class ImageRerank:
    """Images by self-reranking (Pipeline.generate; docs/model-package.md): `candidates` sampled at
    `temperature` besides each image's own codes, scored by log p(prompt | image) + forward_weight
    log p(image | prompt) (+ caption_weight log p(prompt | image) asked as a caption, for edits); with
    `round_trip`, of the codes each candidate's decoded image encodes back to. 0 candidates: none."""

    candidates: int = 0
    temperature: float = 0.7
    forward_weight: float = 0.0
    # score what each candidate's image shows: decoded, then encoded back (the image is the decoded candidate)
    round_trip: bool = False
    # images drawn from a caption (a planned edit's): + caption_weight log p(caption | image, CAPTION_INSTRUCTION)
    caption_weight: float = 0.0
    # the round trip for images drawn from a caption alone (planned edits); None: as round_trip
    edit_round_trip: bool | None = None
    # planned edits with the round trip: - source_weight * the mean absolute difference (0-255) between each
    # candidate's image and the source image (its background normalised as the encoder's input): an edit
    # changes little of the image (session 19: drawn from the TRUE edited caption, 150 / 200 held-out edits,
    # weight 4 picked a right image for 0.873 / 0.860 against 0.847 / 0.815 without)
    source_weight: float = 0.0

    def round_trip_for(self, captioned: bool) -> bool:
        """Whether a request's candidates are scored by their round trip (captioned: a planned edit's)."""
        return self.round_trip if not captioned or self.edit_round_trip is None else self.edit_round_trip


@dataclass(frozen=True)
class CaptionRerank:
    """Captions by self-reranking (Pipeline.caption; docs/model-package.md): the greedy caption and
    `candidates` sampled at `temperature`, each scored by log p(image | caption) + likelihood_weight
    log p(caption | image); then up to `refine_rounds` rounds in which every variant of the best that swaps one
    of `phrases` for another of its class is scored, and the best variant kept while it scores higher."""

    candidates: int = 0
    temperature: float = 1.0
    likelihood_weight: float = 0.0
    refine_rounds: int = 0
    phrases: tuple[tuple[str, ...], ...] = ()


@dataclass
class Preset:
    name: str
    tokenizer: TokenizerConfig
    llm: LLMConfig
    tok_batch: int = 64
    tok_lr: float = 1e-3
    tok_steps: int = 20000
    llm_batch: int = 64
    llm_lr: float = 1e-3
    llm_steps: int = 20000
    sampler_steps: int = 10
    guidance_scale: float = 3.0
    caption_rerank: CaptionRerank = CaptionRerank()
    image_rerank: ImageRerank = ImageRerank()
    # text-to-image and edits drawn from the model's own plan (Pipeline.plans / edit_plans; manifest "plan")
    plan: bool = False
    # edits drawn from the model's caption of the edited image: "" (not planned), "image" (asked about the
    # image) or "caption" (the image captioned first, then asked in text; Pipeline.edit_plans)
    edit_plan: str = ""
    # questions about an image answered in text after the image's caption (Pipeline.answers_by_caption;
    # manifest prompting.answer_template)
    answer_by_caption: bool = False
    # decode with the one-step renderer (Renderer, train_renderer.py; manifest sampler.use_renderer) when the run
    # has one (renderer.pt); else with sampler_steps
    use_renderer: bool = False
    extra: dict = field(default_factory=dict)


PRESETS = {
    # the bundled default model. Decoder steps 1: held-out encode -> decode agreement was 0.91 with one step
    # (x0 predicted at t = 1 from all 16 codes) against 0.80 / 0.83 / 0.74 / 0.71 with 2 / 3 / 10 / 40 steps
    # (session 3, decoder step 13901; text-to-image 0.72 against 0.69 at 10 steps). At low noise the schedule
    # shows only the coarse codes, so drift from earlier steps cannot be corrected from the fine ones.
    # Captions: greedy got 0.687 of held-out scenes fully right at LLM step 54000; the greedy caption and 15
    # sampled at temperature 1, reranked by the model's own log p(codes | caption), 0.827 (3: 0.753, 7: 0.780;
    # temperature 0.7: 0.833, 1.3: 0.820).
    # Guidance 1.0 (none): held-out text-to-image 0.731 against 0.706 at 1.5 and 0.630 at 2.0 (step 54000).
    # Images (step 57000, which learned the inverse of text-to-image): each the best of its own greedy tokens
    # and 15 sampled at temperature 0.7 by log p(prompt | image) + 0.5 log p(image | prompt): held-out
    # text-to-image 0.813 against 0.754 unreranked and 0.788 with the inverse score alone.
    # Plans (step 60500, which learned them): each image drawn from the model's own layout of the prompt,
    # reranked by the layout: held-out text-to-image 0.884 against 0.802 drawn from the prompt (relation 0.820
    # against 0.440); edits drawn from the model's rewrite of its own caption: 0.380 (unplanned 0.300 at 57000).
    # Answers by caption (step 67500, which learned them): questions answered in text after the model's own
    # (reranked) caption: held-out VQA count 0.873 against 0.713 from the image, exists 0.893 against 0.847,
    # colour 0.940 / 0.920, shape 0.900 / 0.933, where 0.827 / 0.833.
    # Caption scores and refinement (session 14, step 67500): held-out captions 0.767 reranked by
    # log p(image | caption) alone; 0.793 with + 0.5 log p(caption | image) (1.0: 0.787); refined by swapping
    # colours and shapes as well, 0.873 (four objects 0.667 against 0.357).
    # Images by round trip (session 15, step 67500; ImageRerank.round_trip and caption_weight, not enabled):
    # drawn from the true captions of held-out edited scenes, 16 candidates each, of which some candidate was
    # right for 0.89 / 0.93 (two sets of 150 / 200 scenes), the candidate picked was right for 0.680 / 0.755
    # scored on its codes as now, 0.740 / 0.840 scored the same on the codes its decoded image encodes back to
    # with log p(caption | image) asked as a caption added (0.773 / 0.820 without the forward term). Asked as a
    # caption, a text-to-image plan (objects in the prompt's order) scored worse (held-out relation prompts
    # 0.773 against 0.900), so only edits would add that term; the round trip alone on text-to-image plans:
    # relation 0.887, two objects 0.760, counting 0.833 (0.900 / 0.767 / 0.787 without). Held-out edits with
    # both: 0.473 against 0.467, because the drawing gains fall mostly on scenes whose rewrite is wrong anyway
    # (the rewrite is right for 0.593); not worth a decode and an encode per candidate yet.
    # Answers read off captions and the edit rewrite (session 16, cooldowns small-ed2 / small-tx / small-tx2 to
    # step 76976, bundled; their mixes in the model card): from the TRUE caption the lookups count / colour /
    # shape / where / exists went 0.917 / 0.897 / 0.940 / 0.833 / 0.910 -> 0.940 / 0.927 / 0.983 / 0.900 / 0.963
    # (n = 300) and the rewrite 0.60 -> 0.707; answers from the caption and from the image combined by summed
    # log-probabilities did not help (where 0.833). Same settings as above, no new generation fields.
    # Round trip + caption term 1.0 on step 76976: held-out edits 0.600 against 0.560, but text-to-image 0.899
    # against 0.918 (two objects 0.727), and one flag covered both, so it stayed off. Session 17: the round trip
    # and the caption term for planned edits alone (ImageRerank.edit_round_trip; manifest
    # generation.edit_image_candidate_round_trip), text-to-image as before; with busy scenes drawn from their
    # captions trained (cooldowns small-dr and small-dr2, step 81476, bundled; their mixes in the model card):
    # held-out edits 0.607, VQA where 0.913, captions 0.947, text-to-image 0.944.
    # Session 18: two more rewrite cooldowns (small-dr3, small-dr4) gave edits 0.647 / 0.633 but held-out
    # text-to-image 0.894 / 0.843 (counting 0.713 / 0.593): not bundled. Session 19: planned edits' candidates
    # also scored by their closeness to the source image (ImageRerank.source_weight, manifest
    # generation.edit_image_candidate_source_weight), same weights.
    # Session 21: one-step renderers fine-tuned from this decoder at t = 1 (train_renderer.py) reproduced
    # 0.925-0.936 of 1,000 held-out scenes against the decoder's 0.932 when stopped early; 4 blocks added with the
    # decoder at a tenth of 3e-4, run to the end of a 2,000-step cosine, 0.944 (eval.py's set: 0.947 against
    # 0.920). Session 22: the same with the decoder tied to the denoiser and trained by the denoising loss too
    # (--denoise-weight 1), bundled: the package decodes with the renderer (use_renderer on; MODEL_CARD.md).
    "small": Preset("small", TokenizerConfig(), LLMConfig(), sampler_steps=1, guidance_scale=1.0,
                    caption_rerank=CaptionRerank(15, 1.0, 0.5, 4, caption_phrase_classes()),
                    image_rerank=ImageRerank(15, temperature=0.7, forward_weight=0.5, caption_weight=1.0,
                                             edit_round_trip=True, source_weight=4.0),
                    plan=True, edit_plan="caption", answer_by_caption=True, use_renderer=True),
    # seconds-long smoke runs for CI
    "tiny": Preset(
        "tiny",
        TokenizerConfig(enc_width=32, enc_layers=1, dec_width=32, dec_layers=1, heads=2, preview_hidden=32),
        LLMConfig(hidden=32, layers=2, heads=2, kv_heads=2, intermediate=64),
        tok_batch=8, tok_steps=3, llm_batch=8, llm_steps=3, sampler_steps=2,
        caption_rerank=CaptionRerank(2, 1.0, 0.5, 2, caption_phrase_classes()),
        image_rerank=ImageRerank(2, forward_weight=0.5, round_trip=True, caption_weight=1.0, source_weight=4.0),
        plan=True, edit_plan="caption", answer_by_caption=True, use_renderer=True,
    ),
}
# For a GPU session (README, "Training on a GPU"): small with its frozen DDT tokenizer (copy its tokenizer.pt
# into the run) and an LLM of 10.3 M parameters (5x small's), 256 sequences a step. Not trained yet; as fp32
# ONNX it would be ~41 MB, over the bundled package's 30 MB aim.
PRESETS["medium"] = replace(PRESETS["small"], name="medium", llm_batch=256, llm_steps=12000,
                            llm=LLMConfig(hidden=320, layers=8, heads=5, kv_heads=5, intermediate=864))
# small's LLM deepened from 4 to 6 layers (train_llm.py --grow-from a small run; ddt/grow.py), same tokenizer.
# Session 11: 5,000 steps from the bundled step-57000 weights gave held-out text-to-image 0.820 vs 0.813,
# captions 0.833 vs 0.853, lower caption and VQA loss: within the noise, not bundled (MODEL_CARD.md notes).
PRESETS["small6"] = replace(PRESETS["small"], name="small6", llm=LLMConfig(layers=6))


def decode_steps(preset: Preset, has_renderer: bool) -> int:
    """A package's default decoder steps: 0 (the one-step renderer) when the preset uses one and the run has it."""
    return 0 if preset.use_renderer and has_renderer else preset.sampler_steps
