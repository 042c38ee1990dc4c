/** Text vocabulary (tokenizer.json via @huggingface/tokenizers). Word-level files decode as words joined by spaces. */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelPackageError } from './errors.js';

export interface TextTokenizer {
  /** Text -> ids. Unknown words become <unk>; special tokens typed by a user also become <unk>. */
  encode(text: string): number[];
  /** Ids -> text, special tokens skipped ('' for none). */
  decode(ids: number[]): string;
  /** Highest id + 1 in the file's vocabulary. */
  readonly vocabSize: number;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | unknown[]; unk_token?: string };
  added_tokens?: { id: number; content: string }[];
}

/** Loads tokenizer.json; `specialIds` are the manifest's special ids (forbidden in user text). */
export async function loadTextTokenizer(
  file: string,
  specialIds: number[],
  unkId: number,
): Promise<TextTokenizer> {
  let json: TokenizerJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as TokenizerJson;
  } catch (err) {
    throw new ModelPackageError(file, `cannot read tokenizer JSON: ${(err as Error).message}`);
  }
  let tokenizer: Tokenizer;
  try {
    // WordLevel files fall back to the library's legacy model, which takes unk_token from the config.
    tokenizer = new Tokenizer(json, {
      unk_token: json.model?.unk_token,
      clean_up_tokenization_spaces: false,
    });
  } catch (err) {
    throw new ModelPackageError(file, `cannot load tokenizer: ${(err as Error).message}`);
  }
  const vocab = json.model?.vocab;
  const ids = [
    ...(vocab && !Array.isArray(vocab) ? Object.values(vocab) : []),
    ...(json.added_tokens ?? []).map((t) => t.id),
  ];
  const vocabSize = Array.isArray(vocab) ? vocab.length : Math.max(-1, ...ids) + 1;
  const special = new Set(specialIds);
  return {
    vocabSize,
    encode(text) {
      const out = tokenizer.encode(text, { add_special_tokens: false }).ids;
      return out.map((id: number) => (special.has(id) ? unkId : id));
    },
    decode(idsToDecode) {
      if (idsToDecode.length === 0) return '';
      return tokenizer.decode(idsToDecode, {
        skip_special_tokens: true,
        clean_up_tokenization_spaces: false,
      });
    },
  };
}
