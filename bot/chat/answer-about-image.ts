/**
 * A chat message answered by Caption ("what is in the image") or Ask ("how many circles are there?") on the
 * newest image of the conversation, as /caption and /ask answer (classify-intent.ts says why).
 */
import type { ImageData } from '../inference/client.js';
import type { JobView } from '../jobs/job-view.js';
import type { JobRunnerDeps } from '../jobs/run-image-job.js';
import type { Ticket } from '../jobs/user-limiter.js';
import { formatAnswer, formatCaption } from '../text/answers.js';
import { postChatText, reportChatFailure, startChatReply } from './chat-reply.js';

export interface ImageQuestion {
  userId: string;
  channelId: string;
  image: ImageData;
  /** Absent: the image's caption is the answer. */
  question?: string;
}

/** Resolves to the posted text, or undefined on failure (reported in the view). Releases the ticket. */
export async function answerAboutImage(
  deps: JobRunnerDeps,
  request: ImageQuestion,
  view: JobView,
  postMore: (text: string) => Promise<void>,
  ticket: Ticket,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    await startChatReply(view, ticket);
    const options = { signal }; // unary calls: the client's per-RPC deadline
    const { image, question } = request;
    let text: string;
    if (question === undefined) {
      text = formatCaption(await deps.inference.caption({ image }, options));
    } else {
      const { answer, caption } = await deps.inference.ask({ image, question }, options);
      text = formatAnswer(question, answer, caption);
    }
    await postChatText(view, postMore, text);
    return text;
  } catch (err) {
    await reportChatFailure(deps, request, view, err);
    return undefined;
  } finally {
    ticket.release();
  }
}
