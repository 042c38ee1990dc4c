"""The world's language: prompts, captions, questions with answers, edit instructions.

Every function is pure given its random.Random, so evaluation sets are reproducible.
"""

from __future__ import annotations

import random
from collections import OrderedDict

from .world import COLOUR_NAMES, MAX_OBJECTS, POSITIONS, SHAPES, Obj, Scene, make_scene

NUMBERS = ("zero", "one", "two", "three", "four")
RELATIONS = ("to the left of", "to the right of", "above", "below")
GEN_VERBS = ("draw", "generate", "show me", "make an image of", "create")
CAPTION_INSTRUCTIONS = ("describe the image", "what is in the image", "caption the image")
CAPTION_INSTRUCTION = CAPTION_INSTRUCTIONS[0]
# The inverse of text-to-image: the image in, a prompt that draws it out. Its likelihood of a user's prompt
# ranks candidate images for that prompt (docs/model-package.md, "Images by self-reranking").
PROMPT_INSTRUCTION = "how can you draw the image"
# Plans: a prompt in, a layout that satisfies it out (every object placed, in the prompt's order); the image is
# then drawn from the layout, which the model does far better than choosing one while drawing
# (docs/model-package.md, "Plans"). Edits are planned as the caption of the edited image.
PLAN_INSTRUCTION = "where can you draw"
EDIT_PLAN_SUFFIX = "now what is in the image"


def caption_phrase_classes() -> tuple[tuple[str, ...], ...]:
    """Phrases that a caption's refinement may swap for another of the same class (docs/model-package.md,
    "Captions by self-reranking"): a colour with its article ("an orange" for "a red"), a bare colour (after
    a number), a shape, a plural shape. Not positions: swapping them did not fix one more held-out caption
    (session 14), because a wrong position comes with a wrong grouping."""
    return (tuple(f"{indefinite(c)} {c}" for c in COLOUR_NAMES), COLOUR_NAMES, SHAPES, tuple(map(plural, SHAPES)))


def plural(shape: str) -> str:
    return shape + "s"


def indefinite(next_word: str) -> str:
    """The indefinite article before next_word ("an orange circle", "a red circle")."""
    return "an" if next_word[:1] in "aeiou" else "a"


def count_word(n: int, article: bool = True, next_word: str = "") -> str:
    return indefinite(next_word) if (n == 1 and article) else NUMBERS[n]


def join_and(parts: list[str]) -> str:
    return " and ".join(parts)


def groups(scene: Scene) -> "OrderedDict[tuple[str, str], list[Obj]]":
    """Objects grouped by (colour, shape) in reading order of their first member."""
    out: OrderedDict[tuple[str, str], list[Obj]] = OrderedDict()
    for o in scene:
        out.setdefault((o.colour, o.shape), []).append(o)
    return out


def noun_phrase(colour: str | None, shape: str, n: int) -> str:
    words = [count_word(n, next_word=colour or shape)] + ([colour] if colour else []) + [shape if n == 1 else plural(shape)]
    return " ".join(words)


def caption(scene: Scene) -> str:
    """Every object with colour, shape and position, grouped and counted."""
    parts = []
    for (colour, shape), objs in groups(scene).items():
        where = join_and([POSITIONS[o.cell] for o in objs])
        where = "the " + where if False else where
        parts.append(f"{noun_phrase(colour, shape, len(objs))} at the {where}")
    return join_and(parts)


def describe(scene: Scene, with_positions: bool) -> str:
    """A prompt that the scene satisfies (all objects, optionally positions)."""
    if with_positions:
        return caption(scene)
    return join_and([noun_phrase(c, s, len(objs)) for (c, s), objs in groups(scene).items()])


def plan_of(prompt: str, scene: Scene) -> str:
    """The layout of a scene that satisfies the prompt, in the prompt's order of objects: "a red square below a
    yellow circle" -> "a red square at the bottom and a yellow circle at the center". Reading order would put
    the circle first, and a model writing the plan left to right must then decide the relation before it
    names the objects (session 11: relation plans valid for 0.31 of prompts that way)."""
    spec = parse_prompt(prompt)
    assert spec is not None, prompt
    parts = []
    for colour, shape, n, _ in spec[0]:
        cells = sorted(o.cell for o in scene if (o.colour, o.shape) == (colour, shape))
        assert len(cells) == n, (prompt, scene)
        parts.append(f"{noun_phrase(colour, shape, n)} at the {join_and([POSITIONS[c] for c in cells])}")
    return join_and(parts)


def plan_request(prompt: str) -> str:
    return f"{PLAN_INSTRUCTION} {prompt}"


def edit_plan_request(instruction: str) -> str:
    return f"{instruction} {EDIT_PLAN_SUFFIX}"


def caption_question_request(caption_text: str, question: str) -> str:
    """A question answered in text: the image's caption, then the question (no image in the sequence; the
    runtime captions the image first). Reading an answer off a caption is a lookup or a sum over its groups,
    which the model learns far more easily than from the image's codes."""
    return f"{caption_text} {question}"


def caption_edit_request(caption_text: str, instruction: str) -> str:
    """An edit planned in text: the image's caption, the instruction, and the question for the result's
    caption (no image in the sequence; the runtime captions the image first)."""
    return f"{caption_text} {edit_plan_request(instruction)}"


# ---------------------------------------------------------------- text-to-image prompts

def relation_holds(a: Obj, rel: str, b: Obj) -> bool:
    return {
        "to the left of": a.col < b.col,
        "to the right of": a.col > b.col,
        "above": a.row < b.row,
        "below": a.row > b.row,
    }[rel]


def sample_prompt(rng: random.Random, category: str) -> tuple[str, Scene]:
    """A prompt of the given evaluation category and a scene that satisfies it."""
    cells = rng.sample(range(9), MAX_OBJECTS)
    c = lambda: rng.choice(COLOUR_NAMES)  # noqa: E731
    s = lambda: rng.choice(SHAPES)  # noqa: E731
    if category == "single":
        o = Obj(cells[0], c(), s())
        return noun_phrase(o.colour, o.shape, 1), make_scene([o])
    if category == "position":
        o = Obj(cells[0], c(), s())
        return f"{noun_phrase(o.colour, o.shape, 1)} at the {POSITIONS[o.cell]}", make_scene([o])
    if category == "counting":
        n = rng.randint(2, 4)
        col, sh = c(), s()
        objs = [Obj(cells[i], col, sh) for i in range(n)]
        return noun_phrase(col, sh, n), make_scene(objs)
    if category == "colour":
        # attribute binding: same shape, two colours
        sh = s()
        c1, c2 = rng.sample(COLOUR_NAMES, 2)
        objs = [Obj(cells[0], c1, sh), Obj(cells[1], c2, sh)]
        return f"{noun_phrase(c1, sh, 1)} and {noun_phrase(c2, sh, 1)}", make_scene(objs)
    if category == "two":
        while True:
            a, b = (c(), s()), (c(), s())
            if a != b:
                break
        n2 = rng.choice((1, 1, 2))
        objs = [Obj(cells[0], *a)] + [Obj(cells[1 + i], *b) for i in range(n2)]
        return f"{noun_phrase(a[0], a[1], 1)} and {noun_phrase(b[0], b[1], n2)}", make_scene(objs)
    if category == "relation":
        rel = rng.choice(RELATIONS)
        while True:
            a, b = (c(), s()), (c(), s())
            ca, cb = rng.sample(range(9), 2)
            oa, ob = Obj(ca, *a), Obj(cb, *b)
            if a != b and relation_holds(oa, rel, ob):
                break
        return f"{noun_phrase(a[0], a[1], 1)} {rel} {noun_phrase(b[0], b[1], 1)}", make_scene([oa, ob])
    if category == "scene":
        from .world import random_scene

        scene = random_scene(rng)
        return describe(scene, rng.random() < 0.6), scene
    raise ValueError(category)


T2I_CATEGORIES = ("single", "two", "counting", "colour", "position", "relation")


def prompt_satisfied(prompt_category: str, prompt: str, scene: Scene | None) -> bool:
    """Scored by the detector's scene: does it match everything the prompt states, and nothing extra?"""
    if scene is None:
        return False
    spec = parse_prompt(prompt)
    if spec is None:
        return False
    objs, rel = spec
    want = {}
    for colour, shape, n, cells in objs:
        want[(colour, shape)] = want.get((colour, shape), 0) + n
    have: dict[tuple[str, str], int] = {}
    for o in scene:
        have[(o.colour, o.shape)] = have.get((o.colour, o.shape), 0) + 1
    if have != want:
        return False
    for colour, shape, _, cells in objs:
        if cells and sorted(cells) != sorted(o.cell for o in scene if (o.colour, o.shape) == (colour, shape)):
            return False
    if rel:
        (ca, sa), r, (cb, sb) = rel
        oa = [o for o in scene if (o.colour, o.shape) == (ca, sa)]
        ob = [o for o in scene if (o.colour, o.shape) == (cb, sb)]
        if not (oa and ob and relation_holds(oa[0], r, ob[0])):
            return False
    return True


def parse_prompt(prompt: str):
    """Parse the prompt grammar above -> ([(colour, shape, n, cells)], relation|None)."""
    words = prompt.split()
    rel = None
    for r in RELATIONS:
        key = f" {r} "
        if key in f" {prompt} ":
            # split the padded text: a relation at the very start or end leaves an empty side (None below),
            # where splitting the bare text found no key and recursed on the same text forever
            left, _, right = f" {prompt} ".partition(key)  # a second relation word makes the right part fail
            left, right = left.strip(), right.strip()
            a, b = parse_prompt(left), parse_prompt(right)
            if not a or not b or len(a[0]) != 1 or len(b[0]) != 1:
                return None
            ao, bo = a[0][0], b[0][0]
            return [ao, bo], ((ao[0], ao[1]), r, (bo[0], bo[1]))
    out = []
    i = 0
    while i < len(words):
        if words[i] == "and":
            i += 1
            continue
        if i + 2 >= len(words) + 0 and i + 2 > len(words):
            return None
        nw, colour, shape = words[i], words[i + 1] if i + 1 < len(words) else "", words[i + 2] if i + 2 < len(words) else ""
        # "a" is also accepted before a vowel: models trained before session 6 wrote "a orange circle"
        n = 1 if nw in ("a", "one") or (nw == "an" and indefinite(colour) == "an") else (
            NUMBERS.index(nw) if nw in NUMBERS else -1)
        if n < 1 or colour not in COLOUR_NAMES:
            return None
        base = shape[:-1] if n > 1 and shape.endswith("s") else shape
        if base not in SHAPES:
            return None
        i += 3
        cells: list[int] = []
        if i < len(words) and words[i] == "at":
            i += 2  # "at the"
            while i < len(words):
                matched = None
                for pi in sorted(range(9), key=lambda p: -len(POSITIONS[p])):
                    pw = POSITIONS[pi].split()
                    if words[i : i + len(pw)] == pw:
                        matched = (pi, len(pw))
                        break
                if matched is None:
                    break
                cells.append(matched[0])
                i += matched[1]
                if i + 1 < len(words) and words[i] == "and" and _is_position_start(words, i + 1):
                    i += 1
                else:
                    break
        out.append((colour, base, n, cells))
    return (out, rel) if out else None


def _is_position_start(words: list[str], i: int) -> bool:
    return words[i] in ("top", "bottom", "left", "right", "center")


# ---------------------------------------------------------------- questions

QUESTION_FAMILIES = ("count", "colour", "shape", "where", "exists")


def object_ref(scene: Scene, o: Obj, rng: random.Random) -> str:
    """A phrase that names o unambiguously in the scene ("the red circle", "the circle at the top left")."""
    same_cs = [x for x in scene if (x.colour, x.shape) == (o.colour, o.shape)]
    options = [f"the {o.shape} at the {POSITIONS[o.cell]}", f"the {o.colour} {o.shape} at the {POSITIONS[o.cell]}"]
    if len(same_cs) == 1:
        options += [f"the {o.colour} {o.shape}"] * 3
    if len([x for x in scene if x.shape == o.shape]) == 1:
        options += [f"the {o.shape}"]
    if len(scene) == 1:
        options += ["it"]
    return rng.choice(options)


def sample_question(rng: random.Random, scene: Scene, family: str) -> tuple[str, str]:
    if family == "count":
        sh = rng.choice(SHAPES)
        if rng.random() < 0.5:
            return f"how many {plural(sh)} are there", NUMBERS[sum(o.shape == sh for o in scene)]
        col = rng.choice(COLOUR_NAMES if rng.random() < 0.5 else [o.colour for o in scene])
        n = sum(o.shape == sh and o.colour == col for o in scene)
        return f"how many {col} {plural(sh)} are there", NUMBERS[n]
    if family == "colour":
        o = rng.choice(scene)
        ref = object_ref(scene, o, rng)
        ref = ref if ref != "it" else "it"
        return f"what colour is {ref}", o.colour
    if family == "shape":
        o = rng.choice(scene)
        return f"what shape is at the {POSITIONS[o.cell]}", o.shape
    if family == "where":
        o = rng.choice(scene)
        ref = object_ref(scene, o, rng)
        if " at the " in ref:  # would give the answer away
            ref = f"the {o.colour} {o.shape}" if sum((x.colour, x.shape) == (o.colour, o.shape) for x in scene) == 1 \
                else ref
        if " at the " in ref:
            return f"what shape is at the {POSITIONS[o.cell]}", o.shape
        return f"where is {ref}", POSITIONS[o.cell]
    if family == "exists":
        if rng.random() < 0.5:
            o = rng.choice(scene)
            return f"is there {indefinite(o.colour)} {o.colour} {o.shape}", "yes"
        col, sh = rng.choice(COLOUR_NAMES), rng.choice(SHAPES)
        present = any((o.colour, o.shape) == (col, sh) for o in scene)
        return f"is there {indefinite(col)} {col} {sh}", "yes" if present else "no"
    raise ValueError(family)


# ---------------------------------------------------------------- edits

EDIT_KINDS = ("recolour", "reshape", "remove", "add", "move")


def sample_edit(rng: random.Random, scene: Scene, kind: str) -> tuple[str, Scene] | None:
    """An instruction and the scene after it; None when the kind does not apply to this scene."""
    empty = [c for c in range(9) if c not in {o.cell for o in scene}]
    o = rng.choice(scene)
    rest = [x for x in scene if x != o]
    ref = object_ref(scene, o, rng)
    if kind == "recolour":
        col = rng.choice([c for c in COLOUR_NAMES if c != o.colour])
        return f"make {ref} {col}", make_scene(rest + [Obj(o.cell, col, o.shape)])
    if kind == "reshape":
        sh = rng.choice([s for s in SHAPES if s != o.shape])
        return f"make {ref} {indefinite(sh)} {sh}", make_scene(rest + [Obj(o.cell, o.colour, sh)])
    if kind == "remove":
        if len(scene) < 2:
            return None
        return f"remove {ref}", make_scene(rest)
    if kind == "add":
        if len(scene) >= MAX_OBJECTS:
            return None
        cell = rng.choice(empty)
        col, sh = rng.choice(COLOUR_NAMES), rng.choice(SHAPES)
        return f"add {indefinite(col)} {col} {sh} at the {POSITIONS[cell]}", make_scene(list(scene) + [Obj(cell, col, sh)])
    if kind == "move":
        cell = rng.choice(empty)
        return f"move {ref} to the {POSITIONS[cell]}", make_scene(rest + [Obj(cell, o.colour, o.shape)])
    raise ValueError(kind)


def all_words() -> list[str]:
    """Every word the generators can produce (the text vocabulary)."""
    words = set()
    for group in (SHAPES, [plural(s) for s in SHAPES], COLOUR_NAMES, NUMBERS, RELATIONS, GEN_VERBS,
                  CAPTION_INSTRUCTIONS, POSITIONS):
        for phrase in group:
            words.update(phrase.split())
    words.update("a an at the and how many are there what colour is shape where it make remove add move to yes no"
                 .split())
    words.update("nothing image of color please now can you".split())
    return sorted(words)
