/**
 * Decides whether a chat message is an instruction to edit an image ("now make the square green")
 * or something for the chat model (questions, requests for new images, small talk). Pure.
 * Edits go to the Edit RPC with the newest image of the conversation, which gives predictable
 * results (and a Re-roll button); everything else goes to Chat, which may also answer with an image.
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

export type ChatIntent = 'edit' | 'chat';

export function classifyChatIntent(text: string, hasImage: boolean): ChatIntent {
  if (!hasImage) return 'chat';
  let rest = text.toLowerCase().replace(/[,!.]/g, ' ').replace(/\s+/g, ' ').trim();
  const polite = /^(can|could|would) you\b/.test(rest);
  for (let changed = true; changed; ) {
    changed = false;
    for (const lead of LEAD_INS) {
      if (rest.startsWith(`${lead} `)) {
        rest = rest.slice(lead.length + 1);
        changed = true;
      }
    }
  }
  const verb = rest.split(' ')[0] ?? '';
  if (!EDIT_VERBS.includes(verb)) return 'chat';
  // "make what?" or "is it red?" are questions; "could you make it red?" is a polite instruction.
  return text.trim().endsWith('?') && !polite ? 'chat' : 'edit';
}
