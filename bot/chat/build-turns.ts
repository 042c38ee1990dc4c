/** Reply chain -> chat turns: roles, merged consecutive messages, mention-free text, bounded images. Pure. */
import type { AttachmentInfo } from '../attachments/check-attachment.js';
import type { ChainMessage } from './reply-chain.js';

export interface DraftTurn {
  role: 'user' | 'assistant';
  text: string;
  /** Images to download, in order; older ones beyond the image budget are dropped. */
  images: AttachmentInfo[];
}

/** Removes mentions of the bot and turns other user/role mentions into plain names-free text. */
export function cleanMessageText(text: string, botId: string): string {
  return text
    .replace(new RegExp(`<@!?${botId}>`, 'g'), '')
    .replace(/<@[!&]?\d+>/g, '@someone')
    .replace(/\s+/g, ' ')
    .trim();
}

export function buildTurns(chain: readonly ChainMessage[], botId: string, maxImages: number): DraftTurn[] {
  const turns: DraftTurn[] = [];
  for (const message of chain) {
    const role = message.fromBot ? 'assistant' : 'user';
    const text = cleanMessageText(message.text, botId);
    const previous = turns.at(-1);
    // Back-to-back messages of one side are one turn: a user's follow-ups, or an answer split over
    // several messages. The model knows only two roles, so two people in a row also share a turn.
    if (previous && previous.role === role) {
      previous.text = [previous.text, text].filter((t) => t !== '').join('\n');
      previous.images.push(...message.images);
    } else {
      turns.push({ role, text, images: [...message.images] });
    }
  }
  return dropOldImages(turns, maxImages);
}

/** Keeps the newest `maxImages` images across all turns. */
function dropOldImages(turns: DraftTurn[], maxImages: number): DraftTurn[] {
  let budget = maxImages;
  for (let t = turns.length - 1; t >= 0; t--) {
    const turn = turns[t]!;
    const keep = Math.max(0, Math.min(turn.images.length, budget));
    turn.images = turn.images.slice(turn.images.length - keep);
    budget -= keep;
  }
  return turns;
}

/** The newest image in the conversation (for edits like "now make the square green"). */
export function lastImage(turns: readonly DraftTurn[]): AttachmentInfo | undefined {
  for (let t = turns.length - 1; t >= 0; t--) {
    const images = turns[t]!.images;
    if (images.length > 0) return images.at(-1);
  }
  return undefined;
}
