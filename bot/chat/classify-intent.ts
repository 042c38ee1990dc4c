/**
 * Decides what a chat message asks for, so that it runs the way the matching command does. Pure.
 * - edit ("now make the square green"): the Edit RPC on the newest image of the conversation;
 * - draw ("draw two red circles"): Generate, as /imagine (the package's plan, reranked candidates);
 * - describe ("what is in the image"): Caption, as /caption (reranked and refined);
 * - ask ("how many circles are there?"): Ask, as /ask (answered after the image's caption);
 * - chat: everything else, for the chat model, which may also answer with an image.
 * The commands' paths are the better ones for the bundled model: held-out answers read off the
 * caption 0.93-0.97 per question family against 0.75-0.93 from the image, prompts drawn from
 * their plan 0.944 against 0.817 (models/shapes-ddt-small/MODEL_CARD.md); a chat answers directly.
 */
const EDIT_VERBS = [
  'make',
  'turn',
  'change',
  'recolor',
  'recolour',
  'color',
  'colour',
  'paint',
  'add',
  'remove',
  'delete',
  'erase',
  'replace',
  'swap',
  'move',
  'put',
  'shift',
  'rotate',
  'flip',
  'mirror',
  'shrink',
  'enlarge',
  'resize',
  'fill',
];
/** Openings of a request for a new image (checked before the edit verbs: "make an image of ..."). */
const DRAW_OPENINGS = [
  'draw',
  'generate',
  'create',
  'imagine',
  'sketch',
  'render',
  'show me',
  'make an image',
  'make a picture',
  'make me an image',
  'make me a picture',
  'give me an image',
  'give me a picture',
];
/** Whole messages that ask for the image's caption. */
const DESCRIBE =
  /^(?:describe(?: (?:it|the|this|that)(?: (?:image|picture|photo))?)?|caption(?: (?:it|the|this|that)(?: (?:image|picture|photo))?)?|what(?:s| is) (?:in|on) (?:it|the|this|that)(?: (?:image|picture|photo))?|what do you see)$/;
const QUESTION_WORDS = new Set([
  'how',
  'what',
  'whats',
  'where',
  'which',
  'who',
  'why',
  'when',
  'is',
  'are',
  'does',
  'do',
  'did',
  'can',
  'could',
  'has',
  'have',
  'was',
  'were',
]);
const LEAD_INS = [
  'now',
  'then',
  'and',
  'ok',
  'okay',
  'please',
  'pls',
  'also',
  'next',
  'can you',
  'could you',
  'would you',
];
const LEAD_IN = new RegExp(`^(?:(?:${LEAD_INS.join('|')})(?:[\\s,!.]+|$))+`, 'i');

export type ChatIntent = 'edit' | 'draw' | 'describe' | 'ask' | 'chat';

export function classifyChatIntent(text: string, hasImage: boolean): ChatIntent {
  const words = text.toLowerCase().replace(/[,!.]/g, ' ').replace(/\s+/g, ' ').trim();
  const polite = /^(can|could|would) you\b/.test(words);
  const question = text.trim().endsWith('?');
  const rest = withoutLeadIns(words).replace(/['’]/g, '');
  const bare = rest.replace(/\?+$/, '').trim();
  // "make what?" or "draw what?" are questions; "could you make it red?" is a polite instruction.
  const instruction = !question || polite;
  // an image sent alone asks what it shows
  if (hasImage && (bare === '' || DESCRIBE.test(bare))) return 'describe';
  if (instruction && DRAW_OPENINGS.some((o) => bare === o || bare.startsWith(`${o} `))) return 'draw';
  if (!hasImage) return 'chat';
  if (instruction && EDIT_VERBS.includes(bare.split(' ')[0] ?? '')) return 'edit';
  if (question || QUESTION_WORDS.has(bare.split(' ')[0] ?? '')) return 'ask';
  return 'chat';
}

/** The message without the politeness or sequencing words in front ("ok, now draw ..." -> "draw ..."). */
export function withoutLeadIns(text: string): string {
  return text.trim().replace(LEAD_IN, '').trim();
}
