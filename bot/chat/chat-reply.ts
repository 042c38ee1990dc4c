/** The parts every chat answer shares: its first status, its text split over replies, its failure message. */
import { describeError, isExpectedError, truncate } from '../errors.js';
import { formatWaitingForUser } from '../jobs/job-status.js';
import type { JobView } from '../jobs/job-view.js';
import type { JobRunnerDeps } from '../jobs/run-image-job.js';
import type { Ticket } from '../jobs/user-limiter.js';
import { splitMessage } from '../text/split-message.js';

/** Shows that the bot is on it (or behind which of the user's jobs it waits), then waits for the ticket. */
export async function startChatReply(view: JobView, ticket: Ticket): Promise<void> {
  await view.update({
    content: ticket.waitingBehind > 0 ? formatWaitingForUser(ticket.waitingBehind) : '💭 Thinking…',
  });
  await ticket.ready;
}

/** The first part in the reply, the rest by `postMore` (as replies to it, so the chain stays one chat). */
export async function postChatText(
  view: JobView,
  postMore: (text: string) => Promise<void>,
  text: string,
): Promise<void> {
  const [first, ...rest] = splitMessage(text.trim() === '' ? '(no answer)' : text);
  await view.update({ content: first ?? '' });
  for (const chunk of rest) await postMore(chunk);
}

export async function reportChatFailure(
  deps: JobRunnerDeps,
  where: { userId: string; channelId: string },
  view: JobView,
  err: unknown,
): Promise<void> {
  const log = isExpectedError(err) ? deps.logger.info : deps.logger.error;
  log('chat failed', { userId: where.userId, channelId: where.channelId, err });
  await view
    .update({ content: truncate(describeError(err), 2000) })
    .catch((e) => deps.logger.warn('could not report chat failure', { err: e }));
}
