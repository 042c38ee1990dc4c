/**
 * The conversation is the reply chain: walk message references from the newest message back to the
 * root, bounded in depth, so it survives restarts and can branch. Pure apart from `fetchParent`.
 */
import type { AttachmentInfo } from '../attachments/check-attachment.js';

export interface ChainMessage {
  id: string;
  authorId: string;
  /** Written by this bot (the assistant's side of the conversation). */
  fromBot: boolean;
  text: string;
  images: AttachmentInfo[];
  /** The message this one replies to, if any. */
  parentId?: string;
}

/** Oldest first. Stops at `maxDepth` messages, a missing parent, or a cycle. */
export async function collectReplyChain(
  start: ChainMessage,
  fetchParent: (id: string) => Promise<ChainMessage | undefined>,
  maxDepth: number,
): Promise<ChainMessage[]> {
  const chain = [start];
  const seen = new Set([start.id]);
  let current = start;
  while (chain.length < maxDepth && current.parentId && !seen.has(current.parentId)) {
    const parent = await fetchParent(current.parentId).catch(() => undefined); // deleted or inaccessible: the chain ends there
    if (!parent) break;
    seen.add(parent.id);
    chain.push(parent);
    current = parent;
  }
  return chain.reverse();
}
