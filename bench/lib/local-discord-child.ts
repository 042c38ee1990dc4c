/**
 * Child-process side of bench/lib/local-discord-process.ts: the local Discord server and the driver that
 * plays the users, on their own event loop (as Discord is on its own machines in production), so the
 * bot's event loop in the bench process is measured alone. Commands come over the IPC channel.
 */
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import type { OptionValues } from '../../local-discord/interactions/options.js';
import type { ChildReply, ChildRequest, InteractionResult } from './local-discord-process.js';

const driver = await LocalDiscordDriver.start({ web: false });
// First preview and final image per message, and the last message activity, as Discord records them.
const firstPreview = new Map<string, number>();
const finalImage = new Map<string, number>();
let lastActivity = Date.now();
const onMessage = (m: { id: string; attachments: { filename: string }[] }) => {
  lastActivity = Date.now();
  if (m.attachments.length === 0) return;
  const preview = m.attachments.some((a) => a.filename.includes('-preview'));
  if (preview && !firstPreview.has(m.id)) firstPreview.set(m.id, Date.now());
  if (!preview && !finalImage.has(m.id)) finalImage.set(m.id, Date.now());
};
driver.events.on('messageCreate', onMessage);
driver.events.on('messageUpdate', onMessage);

async function handle(req: ChildRequest): Promise<unknown> {
  switch (req.op) {
    case 'createUsers':
      return req.names.map((name) => driver.createUser(name).id);
    case 'runCommands':
      // All at once: the burst of the issue (users pressing Enter at the same moment).
      return (
        await Promise.all(
          req.commands.map((c) =>
            driver.runCommand(c.userId, driver.channels.general, c.name, c.options as OptionValues),
          ),
        )
      ).map((h) => h.id);
    case 'status':
      return {
        pending: req.ids.filter((id) => driver.interactionOutcome(id).state === 'pending').length,
        lastActivity,
      };
    case 'results':
      return req.ids.map((id): InteractionResult => {
        const o = driver.interactionOutcome(id);
        const msg = o.originalMessageId;
        return {
          state: o.state,
          ackLatencyMs: o.ackLatencyMs,
          ephemeral: o.ephemeral,
          messageId: msg,
          content: (msg && driver.message(msg)?.content) || '',
          firstPreviewAt: (msg && firstPreview.get(msg)) || null,
          finalImageAt: (msg && finalImage.get(msg)) || null,
        };
      });
    case 'stop':
      await driver.stop();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (raw) => {
  const req = raw as ChildRequest & { seq: number };
  handle(req).then(
    (result) => process.send?.({ seq: req.seq, result } satisfies ChildReply),
    (err: unknown) =>
      process.send?.({ seq: req.seq, error: String((err as Error).stack ?? err) } satisfies ChildReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({
  seq: 0,
  result: {
    token: driver.token,
    restUrl: driver.restUrl,
    applicationId: driver.applicationId,
  },
} satisfies ChildReply);
