/**
 * Splits text into Discord-sized messages without losing a character: prefers paragraph, line and
 * word boundaries, and keeps ``` code blocks valid by closing and reopening them across a split.
 */
export const DISCORD_MESSAGE_LIMIT = 2000;

export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  if (limit < 20) throw new Error('limit too small to split safely');
  const chunks: string[] = [];
  let rest = text;
  let reopen = ''; // fence line to prepend when the previous chunk ended inside a code block
  while (reopen.length + rest.length > limit) {
    const budget = limit - reopen.length - 4; // room to append "\n```" if we cut inside a block
    const cut = findCut(rest, budget);
    let chunk = reopen + rest.slice(0, cut);
    rest = rest.slice(cut);
    const open = openFence(chunk);
    if (open !== undefined) {
      chunk += '\n```';
      reopen = `${open}\n`;
    } else {
      reopen = '';
    }
    chunks.push(chunk);
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(reopen + rest);
  return chunks;
}

function findCut(text: string, budget: number): number {
  const window = text.slice(0, budget);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(sep);
    // Only split at a boundary in the second half; otherwise chunks get needlessly small.
    if (at > budget / 2) return at + sep.length;
  }
  // No boundary: cut hard, but not between the halves of a surrogate pair.
  const code = text.charCodeAt(budget - 1);
  return code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
}

/** The opening fence line (e.g. "```ts") if `chunk` ends inside a code block. */
function openFence(chunk: string): string | undefined {
  let open: string | undefined;
  for (const match of chunk.matchAll(/```[^\n`]*/g)) open = open === undefined ? match[0] : undefined;
  return open;
}
