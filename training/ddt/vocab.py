"""One LLM vocabulary: specials, the world's words (a `tokenizers` WordLevel tokenizer) and the codebook."""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

from .language import all_words

# Unicode punctuation (also in the package's tokenizer.json, where @huggingface/tokenizers reads the same pattern)
PUNCTUATION = r"\p{P}"
# Words users write for the world's own: digits for the number words, the British spelling of "center".
SPELLINGS = (("0", "zero"), ("1", "one"), ("2", "two"), ("3", "three"), ("4", "four"), ("centre", "center"))
SPECIALS = ("<pad>", "<bos>", "<end>", "<unk>", "<boi>", "<eoi>", "<user>", "<assistant>")


def build_text_tokenizer() -> Tokenizer:
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for w in all_words():
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # Punctuation becomes a space: the world's language has none, and a "?" read as <unk> after a question cost
    # 0.11 of the answers (session 19, 300 held-out questions read off the true caption: 0.837 against 0.943).
    # Digits and "centre" become the world's words: planned as <unk>, "2 red circles" got one circle.
    tok.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(PUNCTUATION), " "),
        *(normalizers.Replace(Regex(rf"\b{word}\b"), ours) for word, ours in SPELLINGS)])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.add_special_tokens(list(SPECIALS))
    return tok


@dataclass(frozen=True)
class Vocab:
    text: Tokenizer
    codebook_size: int

    @property
    def text_size(self) -> int:
        return self.text.get_vocab_size(with_added_tokens=True)

    @property
    def size(self) -> int:
        return self.text_size + self.codebook_size

    def id(self, special: str) -> int:
        i = self.text.token_to_id(special)
        assert i is not None, special
        return i

    def encode_text(self, text: str) -> list[int]:
        return self.text.encode(text, add_special_tokens=False).ids if text.strip() else []

    def decode_text(self, ids: list[int]) -> str:
        return " ".join(self.text.id_to_token(i) for i in ids)

    def visual(self, code: int) -> int:
        return self.text_size + code
