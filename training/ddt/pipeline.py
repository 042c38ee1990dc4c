"""PyTorch reference inference: the same sequences, masks, guidance and sampler as the TypeScript runtime.

Used by evaluation, by the golden files for parity tests, and by the speed benchmark's reference side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import to_tensor, to_uint8
from .language import (
    CAPTION_INSTRUCTION, PROMPT_INSTRUCTION, caption_edit_request, caption_question_request, edit_plan_request,
    plan_request,
)
from .llm import KVCacheLlama
from .phrases import phrase_variants
from .presets import CaptionRerank, ImageRerank
from .rng import SplitMix64, candidate_seed, image_seed, noise_generator, process_logits, sample_from_probs
from .tasks import image_ids
from .tokenizer_model import DDTTokenizer, Renderer, keep_mask, sample
from .vocab import SPECIALS, Vocab
from .world import normalize_background


@dataclass
class Sampling:
    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    guidance: float = 1.0
    steps: int = 10


def source_distance(image: np.ndarray, source: np.ndarray) -> float:
    """Mean absolute difference (0-255) between an image and an edit's source image whose background is normalised
    as the encoder's input is (inference/runtime/image-rerank.ts, sourceDistance)."""
    return mean_abs_difference(image, normalize_background(np.asarray(source, dtype=np.uint8)))


def mean_abs_difference(image: np.ndarray, other: np.ndarray) -> float:
    return float(np.abs(image.astype(np.int64) - other.astype(np.int64)).sum()) / image.size


class Pipeline:
    def __init__(self, tok: DDTTokenizer, llm: KVCacheLlama, vocab: Vocab, renderer: Renderer | None = None):
        self.tok, self.llm, self.vocab = tok.eval(), llm.eval(), vocab
        self.renderer = renderer.eval() if renderer is not None else None  # decodes with steps = 0
        self.K = tok.cfg.k
        V, T = vocab.size, vocab.text_size
        self.visual_mask = torch.full((V,), float("-inf"))
        self.visual_mask[T:] = 0
        self.text_mask = torch.full((V,), float("-inf"))
        self.text_mask[:T] = 0
        for s in SPECIALS:
            if s != "<end>":
                self.text_mask[vocab.id(s)] = float("-inf")
        self.chat_first_mask = self.text_mask.clone()
        self.chat_first_mask[vocab.id("<boi>")] = 0

    # ------------------------------------------------------------ images <-> codes
    @torch.no_grad()
    def encode(self, imgs: list[np.ndarray]) -> list[list[int]]:
        return self.tok.encode(to_tensor(imgs)).tolist()

    @torch.no_grad()
    def decode(self, codes: list[list[int]], steps: int, seeds: list[int] | None = None,
               keep: list[int] | None = None, fast_noise: bool = False,
               noise: torch.Tensor | None = None) -> np.ndarray:
        B = len(codes)
        keep_t = torch.tensor(keep if keep is not None else [self.K] * B)
        if steps == 0:  # the one-step renderer: no noise, every kept code visible (docs/model-package.md)
            assert self.renderer is not None, "steps 0 needs a renderer"
            return to_uint8(self.renderer(torch.tensor(codes), keep_mask(keep_t, self.K)))
        if noise is None:
            noise = self.noise(B, seeds, fast_noise)
        x0 = sample(self.tok.denoiser, torch.tensor(codes), keep_t, steps, noise, self.tok.cfg.knots)
        return to_uint8(x0)

    def noise(self, count: int, seeds: list[int] | None = None, fast_noise: bool = False) -> torch.Tensor:
        """Initial noise [count, 3, s, s]: each image's from its seed (as the runtime draws it), or with
        `fast_noise` (or no seeds) from torch's generator."""
        s = self.tok.cfg.image_size
        if fast_noise or seeds is None:
            return torch.randn(count, 3, s, s)
        return torch.from_numpy(np.stack([noise_generator(sd).normals((3, s, s)) for sd in seeds]))

    # ------------------------------------------------------------ sequences
    def prompt_ids(self, turns: list[tuple[str, list]], codes_of) -> list[int]:
        """<bos> turns... ending with '<assistant>' (the answer is generated)."""
        v = self.vocab
        ids = [v.id("<bos>")]
        for role, parts in turns:
            ids.append(v.id(f"<{role}>"))
            for p in parts:
                ids += v.encode_text(p) if isinstance(p, str) else image_ids(v, codes_of(p))
            if role == "assistant":
                ids.append(v.id("<end>"))
        ids.append(v.id("<assistant>"))
        return ids

    # ------------------------------------------------------------ autoregressive core
    @staticmethod
    def _left_pad(seqs: list[list[int]]):
        """-> ids, attention mask, positions [B, L], rows right-aligned."""
        B, L = len(seqs), max(len(s) for s in seqs)
        ids = torch.zeros(B, L, dtype=torch.long)
        attn = torch.zeros(B, L, dtype=torch.long)
        pos = torch.zeros(B, L, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, L - len(s):] = torch.tensor(s)
            attn[i, L - len(s):] = 1
            pos[i, L - len(s):] = torch.arange(len(s))
        return ids, attn, pos

    @torch.no_grad()
    def _run(self, seqs: list[list[int]]):
        """Left-padded prefill. -> (last logits [B,V], past, attention_mask, next positions)."""
        ids, attn, pos = self._left_pad(seqs)
        out = self.llm(ids, attn, pos, *self.llm.empty_past(len(seqs)))
        return out[0][:, -1], list(out[1:]), attn, torch.tensor([len(s) for s in seqs])

    @torch.no_grad()
    def _step(self, tokens: torch.Tensor, past, attn, pos):
        attn = torch.cat([attn, torch.ones(len(tokens), 1, dtype=torch.long)], dim=1)
        out = self.llm(tokens[:, None], attn, pos[:, None], *past)
        return out[0][:, -1], list(out[1:]), attn, pos + 1

    @torch.no_grad()
    def generate_image_codes(self, cond: list[list[int]], uncond: list[list[int]] | None, sp: Sampling,
                             seeds: list[int]) -> list[list[int]]:
        """cond rows end with <boi>; returns K codes per row in CODE order."""
        B = len(cond)
        use_cfg = uncond is not None and sp.guidance != 1.0
        rows = cond + (uncond if use_cfg else [])
        logits, past, attn, pos = self._run(rows)
        gens = [SplitMix64(s) for s in seeds]
        emitted = [[] for _ in range(B)]
        for _ in range(self.K):
            lg = logits[:B] if not use_cfg else logits[B:] + sp.guidance * (logits[:B] - logits[B:])
            lg = lg + self.visual_mask
            nxt = []
            for i in range(B):
                probs = process_logits(lg[i].numpy(), sp.temperature, sp.top_k, sp.top_p)
                t = int(torch.argmax(lg[i])) if probs is None else sample_from_probs(probs, gens[i].uniform())
                emitted[i].append(t - self.vocab.text_size)
                nxt.append(t)
            tok = torch.tensor(nxt + (nxt if use_cfg else []))
            logits, past, attn, pos = self._step(tok, past, attn, pos)
        # sequence order is coarse_to_fine (code K-1 first): flip to code order
        return [list(reversed(e)) for e in emitted]

    @torch.no_grad()
    def generate_text(self, seqs: list[list[int]], max_new: int = 48, allow_image: bool = False,
                      temperature: float = 0.0, seeds: list[int] | None = None) -> list[list[int]]:
        """Text until <end>: greedy, or sampled at `temperature` with one SplitMix64 per row (a draw per
        token, as the runtime's TextStream). With allow_image the first token may be <boi> ([<boi>])."""
        B = len(seqs)
        end, boi = self.vocab.id("<end>"), self.vocab.id("<boi>")
        logits, past, attn, pos = self._run(seqs)
        gens = [SplitMix64(s) for s in (seeds if seeds is not None else [0] * B)]
        out = [[] for _ in range(B)]
        done = [False] * B
        for i_step in range(max_new):
            mask = self.chat_first_mask if (allow_image and i_step == 0) else self.text_mask
            nxt = torch.argmax(logits + mask, dim=-1)
            if temperature > 0:
                for i in range(B):
                    probs = process_logits((logits[i] + mask).numpy(), temperature, 0, 1.0)
                    nxt[i] = sample_from_probs(probs, gens[i].uniform())
            for i in range(B):
                if not done[i]:
                    t = int(nxt[i])
                    if t == end:
                        done[i] = True
                    else:
                        out[i].append(t)
                        if t == boi:
                            done[i] = True
            if all(done):
                break
            logits, past, attn, pos = self._step(nxt, past, attn, pos)
        return out

    # ------------------------------------------------------------ tasks
    def generate(self, prompts: list[str], sp: Sampling, seeds: list[int], fast_noise: bool = False,
                 rerank: ImageRerank = ImageRerank(), per_request: int = 1, captioned: bool = False,
                 sources: list[np.ndarray] | None = None):
        """Images for prompts. With `rerank.candidates` > 0, each image's own codes (sampled as `sp` says, from
        its seed) and that many sampled at `rerank.temperature` (candidate j from candidate_seed(seed, j), j from
        1), and of the distinct ones the best by best_images_for, as the runtime does
        (inference/runtime/image-rerank.ts); each `per_request` consecutive images (one prompt) are one request,
        whose images avoid each other's. `captioned`: the prompts are captions of the images to draw (a planned
        edit's), also scored as such (ImageRerank.caption_weight); `sources`: each prompt's source image (uint8
        RGB, a planned edit's input), scored by closeness to it (ImageRerank.source_weight)."""
        v = self.vocab
        cond = [[v.id("<bos>"), v.id("<user>")] + v.encode_text(p) + [v.id("<assistant>"), v.id("<boi>")]
                for p in prompts]
        uncond = [[v.id("<bos>"), v.id("<user>"), v.id("<assistant>"), v.id("<boi>")] for _ in prompts]
        codes = self.generate_image_codes(cond, uncond, sp, seeds)
        noise = self.noise(len(prompts), seeds, fast_noise)
        candidates = rerank.candidates
        if candidates == 0:
            return codes, self.decode(codes, sp.steps, noise=noise)
        cs = Sampling(rerank.temperature, sp.top_k, sp.top_p, sp.guidance, sp.steps)
        rep = lambda rows: [r for r in rows for _ in range(candidates)]  # noqa: E731
        sampled = self.generate_image_codes(rep(cond), rep(uncond), cs,
                                            [candidate_seed(s, j) for s in seeds for j in range(1, candidates + 1)])
        pools = [[c] + sampled[i * candidates:(i + 1) * candidates] for i, c in enumerate(codes)]
        chosen, imgs = [], []
        for r in range(0, len(prompts), per_request):
            c, im = self.best_images_for(prompts[r], pools[r:r + per_request], rerank, captioned,
                                         noise[r:r + per_request], sp.steps,
                                         None if sources is None else sources[r])
            chosen += c
            imgs += list(im) if im is not None else []
        if not rerank.round_trip_for(captioned):
            return chosen, self.decode(chosen, sp.steps, noise=noise)
        return chosen, np.stack(imgs)

    def plans(self, prompts: list[str]) -> list[str]:
        """Greedy layouts for text-to-image prompts (`where can you draw <prompt>`): the first half of a planned
        request, whose images are then generated from the layout (generate(plans, ...))."""
        return self._text_answers([plan_request(p) for p in prompts])

    def edit_plans(self, img_codes: list[list[int]], instructions: list[str], via: str = "caption",
                   caption_rerank: CaptionRerank = CaptionRerank()) -> list[str]:
        """Greedy captions of the edited images: the first half of a planned edit, whose image is then generated
        from the caption. via "image": asked about the image (`<image> <instruction> now what is in the image`);
        via "caption": the image captioned first (as caption() does), then asked in text alone
        (`<caption> <instruction> now what is in the image`)."""
        if via == "image":
            return self.answer(img_codes, [edit_plan_request(i) for i in instructions])
        assert via == "caption", via
        caps = self.caption(img_codes, CAPTION_INSTRUCTION, caption_rerank)
        return self._text_answers([caption_edit_request(c, i) for c, i in zip(caps, instructions)])

    def answers_by_caption(self, captions: list[str], questions: list[str]) -> list[str]:
        """Greedy answers asked in text after each image's caption (`<caption> <question>`), the captions made
        by caption() as the runtime makes them with prompting.answer_template."""
        return self._text_answers([caption_question_request(c, q) for c, q in zip(captions, questions)])

    def _text_answers(self, questions: list[str]) -> list[str]:
        """Greedy answers to text-only user turns: `<bos> <user> {question} <assistant>` until <end>."""
        v = self.vocab
        rows = [[v.id("<bos>"), v.id("<user>")] + v.encode_text(q) + [v.id("<assistant>")] for q in questions]
        return [v.decode_text(o) for o in self.generate_text(rows)]

    def best_images_for(self, prompt: str, pools: list[list[list[int]]], rerank: ImageRerank = ImageRerank(),
                        captioned: bool = False, noise: torch.Tensor | None = None,
                        steps: int = 1, source: np.ndarray | None = None) -> tuple[list[list[int]], np.ndarray | None]:
        """One request's images, in order: each the first of its distinct candidates with the highest
        log p(prompt <end> | image, PROMPT_INSTRUCTION) + forward_weight * log p(image | prompt)
        (+ caption_weight * log p(prompt <end> | image, CAPTION_INSTRUCTION) when `captioned`) that no earlier
        image took (else its best). With a round trip (rerank.round_trip_for(captioned)), every distinct
        candidate is decoded (steps, from its image's noise) and the scores are of the codes its image encodes
        back to; the chosen candidates' images are returned too (else None). With the round trip, a planned
        edit's `source` image and rerank.source_weight, each score also gets - source_weight * the mean absolute
        difference between the candidate's image and the source (background normalised), as the runtime adds."""
        distinct = [[list(t) for t in dict.fromkeys(tuple(c) for c in pool)] for pool in pools]
        flat = [c for d in distinct for c in d]
        decoded = None
        scored = flat
        if rerank.round_trip_for(captioned):
            assert noise is not None, "round trip decodes each candidate from its image's noise"
            owner = torch.tensor([i for i, d in enumerate(distinct) for _ in d])
            decoded = self.decode(flat, steps, noise=noise[owner])
            scored = self.encode(list(decoded))
        scores = self.prompt_log_likelihood(scored, prompt)  # every candidate of the request in one pass
        if captioned and rerank.caption_weight:
            cap = self.prompt_log_likelihood(scored, prompt, CAPTION_INSTRUCTION)
            scores = [a + rerank.caption_weight * b for a, b in zip(scores, cap)]
        if rerank.forward_weight:
            fwd = self.image_log_likelihood(prompt, scored)
            scores = [a + rerank.forward_weight * b for a, b in zip(scores, fwd)]
        if decoded is not None and captioned and source is not None and rerank.source_weight:
            src = normalize_background(np.asarray(source, dtype=np.uint8))  # once per request, as the runtime does
            scores = [a + rerank.source_weight * -mean_abs_difference(im, src) for a, im in zip(scores, decoded)]
        taken: set[tuple[int, ...]] = set()
        out, picked, at = [], [], 0
        for d in distinct:
            order = sorted(range(len(d)), key=lambda i: (-scores[at + i], i))
            pick = next((i for i in order if tuple(d[i]) not in taken), order[0])
            taken.add(tuple(d[pick]))
            out.append(d[pick])
            picked.append(at + pick)
            at += len(d)
        return out, None if decoded is None else decoded[picked]

    def image_log_likelihood(self, prompt: str, img_codes: list[list[int]]) -> list[float]:
        """log p(codes | prompt) of each image under one text-to-image prompt (as code_log_likelihood)."""
        ids = self.vocab.encode_text(prompt)
        return self._score_last([self._t2i_row(ids, c) for c in img_codes], self.K, self.vocab.text_size,
                                self.vocab.size)

    @torch.no_grad()
    def prompt_log_likelihood(self, img_codes: list[list[int]], prompt: str,
                              instruction: str = PROMPT_INSTRUCTION) -> list[float]:
        """log p(prompt <end> | image) for each image, asked with PROMPT_INSTRUCTION (the inverse of
        text-to-image; an edit's caption may also be asked with CAPTION_INSTRUCTION): one forward pass over the
        whole rows, each answer token by the log-softmax over the text ids [0, text_size), as the runtime's
        llmScore does."""
        v = self.vocab
        answer = v.encode_text(prompt) + [v.id("<end>")]
        rows = [r + answer for r in self._question_rows(img_codes, [instruction] * len(img_codes))]
        return self._score_last(rows, len(answer), 0, v.text_size)

    def _score_last(self, rows: list[list[int]], n: int, lo: int, hi: int) -> list[float]:
        """Summed log-probabilities of each row's last n ids, each by the log-softmax over ids [lo, hi)."""
        return self._score_rows(rows, [(n, lo, hi)] * len(rows))

    @torch.no_grad()
    def _score_rows(self, rows: list[list[int]], spans: list[tuple[int, int, int]]) -> list[float]:
        """One forward pass over the left-padded rows; for each row with span (n, lo, hi), the summed
        log-probabilities of its last n ids, each by the log-softmax over ids [lo, hi), as the runtime's
        llmScore does."""
        ids, attn, pos = self._left_pad(rows)
        L = ids.shape[1]
        logits = self.llm(ids, attn, pos, *self.llm.empty_past(len(rows)))[0]
        out = [0.0] * len(rows)
        groups: dict[tuple[int, int, int], list[int]] = {}
        for b, span in enumerate(spans):
            groups.setdefault(span, []).append(b)
        for (n, lo, hi), rows_of in groups.items():  # rows that share a span: one vectorised gather
            sel = torch.tensor(rows_of)
            logp = torch.log_softmax(logits[sel, L - n - 1:L - 1, lo:hi].double(), dim=-1)
            sums = logp.gather(-1, (ids[sel, L - n:] - lo)[..., None]).squeeze(-1).sum(-1).tolist()
            for b, v in zip(rows_of, sums):
                out[b] = v
        return out

    def edit(self, img_codes: list[list[int]], instructions: list[str], sp: Sampling, seeds: list[int],
             fast_noise: bool = False):
        v = self.vocab
        cond, uncond = [], []
        for c, ins in zip(img_codes, instructions):
            head = [v.id("<bos>"), v.id("<user>")] + image_ids(v, c)
            cond.append(head + v.encode_text(ins) + [v.id("<assistant>"), v.id("<boi>")])
            uncond.append(head + [v.id("<assistant>"), v.id("<boi>")])
        codes = self.generate_image_codes(cond, uncond, sp, seeds)
        return codes, self.decode(codes, sp.steps, seeds, fast_noise=fast_noise)

    def answer(self, img_codes: list[list[int]], questions: list[str]) -> list[str]:
        return [self.vocab.decode_text(o) for o in self.generate_text(self._question_rows(img_codes, questions))]

    def _question_rows(self, img_codes: list[list[int]], questions: list[str]) -> list[list[int]]:
        v = self.vocab
        return [[v.id("<bos>"), v.id("<user>")] + image_ids(v, c) + v.encode_text(q) + [v.id("<assistant>")]
                for c, q in zip(img_codes, questions)]

    def code_log_likelihood(self, prompts: list[list[int]], codes: list[int]) -> list[float]:
        """log p(codes | prompt) for each prompt (text ids) as a text-to-image prompt: the K codes after <boi>
        in sequence order, scored in one forward pass over the whole left-padded rows, each by the
        log-softmax over visual ids (the generation's mask), as the runtime's llmScore does."""
        return self._score_last([self._t2i_row(ids, codes) for ids in prompts], self.K, self.vocab.text_size,
                                self.vocab.size)

    def _t2i_row(self, prompt_ids: list[int], codes: list[int]) -> list[int]:
        """`<bos> <user> {prompt} <assistant> <boi>` and the K visual ids (sequence order, no <eoi>)."""
        v = self.vocab
        return [v.id("<bos>"), v.id("<user>")] + prompt_ids + [v.id("<assistant>")] + image_ids(v, codes)[:-1]

    def caption(self, img_codes: list[list[int]], instruction: str,
                rerank: CaptionRerank = CaptionRerank()) -> list[str]:
        """Captions, as the runtime makes them (inference/runtime/text-tasks.ts, captionText): greedy, or with
        reranking the greedy caption and `rerank.candidates` sampled at its temperature (candidate i seeded i,
        from 1), of the distinct ones the one with the highest caption_scores (ties: the earlier), then refined
        (refine_caption)."""
        rows = self._question_rows(img_codes, [instruction] * len(img_codes))
        greedy = self.generate_text(rows)
        if rerank.candidates <= 0 and rerank.refine_rounds <= 0:
            return [self.vocab.decode_text(ids) for ids in greedy]
        out = []
        for c, row, g in zip(img_codes, rows, greedy):
            sampled = self.generate_text([row] * rerank.candidates, temperature=rerank.temperature,
                                         seeds=list(range(1, rerank.candidates + 1))) if rerank.candidates else []
            distinct = [list(t) for t in dict.fromkeys(tuple(x) for x in [g] + sampled)]
            scores = self.caption_scores(row, c, distinct, rerank.likelihood_weight)
            best = max(range(len(distinct)), key=lambda i: (scores[i], -i))
            out.append(self.refine_caption(row, c, distinct[best], scores[best], rerank))
        return [self.vocab.decode_text(ids) for ids in out]

    def caption_scores(self, row: list[int], codes: list[int], captions: list[list[int]], weight: float) -> list[float]:
        """log p(codes | caption) as a text-to-image prompt, + weight * log p(caption <end> | row) (the caption
        as the answer to the caption instruction, by the log-softmax over the text ids), all in one pass."""
        v = self.vocab
        t2i = [self._t2i_row(ids, codes) for ids in captions]
        own = [row + ids + [v.id("<end>")] for ids in captions] if weight else []
        spans = [(self.K, v.text_size, v.size)] * len(t2i) + [(len(r) - len(row), 0, v.text_size) for r in own]
        s = self._score_rows(t2i + own, spans)
        return [a + weight * b for a, b in zip(s, s[len(t2i):])] if weight else s

    def refine_caption(self, row: list[int], codes: list[int], ids: list[int], score: float,
                       rerank: CaptionRerank) -> list[int]:
        """Up to rerank.refine_rounds rounds: every variant of the caption that swaps one phrase for another of
        its class (ddt/phrases.py) scored by caption_scores; the best (ties: the earlier) replaces the caption
        while it scores higher."""
        classes = [[self.vocab.encode_text(p) for p in cls] for cls in rerank.phrases]
        for _ in range(rerank.refine_rounds):
            variants = phrase_variants(ids, classes)
            if not variants:
                break
            scores = self.caption_scores(row, codes, variants, rerank.likelihood_weight)
            best = max(range(len(variants)), key=lambda i: (scores[i], -i))
            if scores[best] <= score:
                break
            ids, score = variants[best], scores[best]
        return ids


def seeds_for(seed: int, n: int) -> list[int]:
    return [image_seed(seed, i) for i in range(n)]
