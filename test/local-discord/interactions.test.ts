import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  type Client,
  DiscordAPIError,
  Events,
  type Interaction,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { loginClient, png, registerCommands } from './helpers.js';

const COMMANDS = [
  {
    name: 'imagine',
    description: 'Make an image',
    name_localizations: { fr: 'imaginer' },
    options: [
      { type: 3, name: 'prompt', description: 'What to draw', required: true },
      { type: 4, name: 'seed', description: 'Seed', min_value: 0 },
      { type: 10, name: 'guidance', description: 'Guidance' },
      { type: 5, name: 'private', description: 'Only me' },
      { type: 11, name: 'image', description: 'Start image' },
    ],
  },
  { name: 'form', description: 'Opens a modal' },
  { name: 'Describe image', type: 3 },
];

describe('interactions through the real discord.js client', () => {
  let driver: LocalDiscordDriver;
  let client: Client;
  let handler: (i: Interaction) => Promise<void> = async () => {};
  const botErrors: unknown[] = [];

  beforeAll(async () => {
    driver = await LocalDiscordDriver.start({ limits: { ackWindowMs: 1000 } });
    client = await loginClient(driver);
    client.on(Events.InteractionCreate, (i) => {
      handler(i).catch((err) => botErrors.push(err));
    });
    await registerCommands(client, COMMANDS);
  });
  afterAll(async () => {
    await client.destroy();
    await driver.stop();
  });

  const { alice, bob } = { alice: () => driver.users.alice, bob: () => driver.users.bob };
  const general = () => driver.channels.general;

  it('stores registered commands, localisations included', () => {
    const names = driver.registeredCommands().map((c) => c.name);
    expect(names.sort()).toEqual(['Describe image', 'form', 'imagine']);
    const imagine = driver.registeredCommands().find((c) => c.name === 'imagine');
    expect(imagine?.name_localizations).toEqual({ fr: 'imaginer' });
  });

  it('delivers a slash command with typed options and an attachment; reply is recorded', async () => {
    let seen: Record<string, unknown> = {};
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      const image = i.options.getAttachment('image', true);
      seen = {
        prompt: i.options.getString('prompt', true),
        seed: i.options.getInteger('seed'),
        guidance: i.options.getNumber('guidance'),
        private: i.options.getBoolean('private'),
        image: {
          name: image.name,
          type: image.contentType,
          w: image.width,
          h: image.height,
          size: image.size,
        },
        admin: i.memberPermissions?.has('ManageGuild'),
        limit: i.attachmentSizeLimit,
        locale: i.locale,
      };
      const bytes = Buffer.from(await (await fetch(image.url)).arrayBuffer());
      await i.reply(`drawing ${seen.prompt} from ${bytes.length} bytes`);
    };
    const data = await png(8, 6);
    const h = await driver.runCommand(alice(), general(), 'imagine', {
      prompt: 'two red circles',
      seed: 7,
      guidance: 2.5,
      private: false,
      image: { name: 'start.png', data },
    });
    const reply = await driver.waitForBotReply(h);
    expect(reply.content).toBe(`drawing two red circles from ${data.length} bytes`);
    expect(reply.interaction_metadata?.id).toBe(h.id);
    expect(seen).toEqual({
      prompt: 'two red circles',
      seed: 7,
      guidance: 2.5,
      private: false,
      image: { name: 'start.png', type: 'image/png', w: 8, h: 6, size: data.length },
      admin: true,
      limit: 10 * 1024 * 1024,
      locale: 'en-US',
    });
    const outcome = driver.interactionOutcome(h);
    expect(outcome).toMatchObject({
      state: 'acknowledged',
      acknowledgedInTime: true,
      response: 'reply',
      deferred: false,
    });
  });

  it('refuses options a Discord client would not send', async () => {
    await expect(driver.runCommand(bob(), general(), 'imagine', { seed: 3 })).rejects.toThrow(/prompt/);
    await expect(driver.runCommand(bob(), general(), 'imagine', { prompt: 'x', seed: -1 })).rejects.toThrow(
      /minimum/,
    );
    await expect(driver.runCommand(bob(), general(), 'nope', {})).rejects.toThrow(/not registered/);
  });

  it('defer, then edit with a file (multipart) and follow up; every edit is kept', async () => {
    const image = await png(16, 16);
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await i.editReply({ content: 'step 1/2' });
      await i.editReply({ content: 'done', files: [new AttachmentBuilder(image, { name: 'result.png' })] });
      await i.followUp({ content: 'seed 42', flags: MessageFlags.Ephemeral });
    };
    const h = await driver.runCommand(bob(), general(), 'imagine', { prompt: 'a square' });
    const { message, attachment, data } = await driver.waitUntilBotMessageHasImage(h);
    expect(message.content).toBe('done');
    expect(attachment).toMatchObject({
      filename: 'result.png',
      content_type: 'image/png',
      width: 16,
      height: 16,
    });
    expect(data.equals(image)).toBe(true);
    // The attachment URL is served over HTTP like Discord's CDN.
    const fetched = Buffer.from(await (await fetch(attachment.url)).arrayBuffer());
    expect(fetched.equals(image)).toBe(true);
    const history = driver.messageHistory(message.id);
    expect(history.map((m) => m.content)).toEqual(['', 'step 1/2', 'done']);
    expect((history[0]!.flags ?? 0) & MessageFlags.Loading).toBeTruthy();
    const outcome = await driver.waitFor(() => {
      const o = driver.interactionOutcome(h);
      return o.followUpMessageIds.length === 1 && o;
    });
    expect(outcome.deferred).toBe(true);
    const followUp = driver.message(outcome.followUpMessageIds[0]!);
    expect(followUp?.content).toBe('seed 42');
    expect(driver.botMessages(general()).some((m) => m.id === followUp?.id)).toBe(false);
    expect(driver.botMessages(general(), { includeEphemeral: true }).some((m) => m.id === followUp?.id)).toBe(
      true,
    );
  });

  it('returns the callback response object with withResponse', async () => {
    let responseMessageId: string | undefined;
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      const res = await i.reply({ content: 'with response', withResponse: true });
      responseMessageId = res.resource?.message?.id;
    };
    const h = await driver.runCommand(bob(), general(), 'imagine', { prompt: 'r' });
    const reply = await driver.waitForBotReply(h);
    await driver.waitFor(() => responseMessageId);
    expect(responseMessageId).toBe(reply.id);
  });

  it('round-trips buttons: press, update the message, deferUpdate + editReply', async () => {
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('reroll:1').setLabel('Re-roll').setStyle(ButtonStyle.Primary),
          new ButtonBuilder().setCustomId('later:1').setLabel('Later').setStyle(ButtonStyle.Secondary),
        );
        await i.reply({ content: 'image v1', components: [row] });
      } else if (i.isButton() && i.customId === 'reroll:1') {
        await i.update({ content: `image v2 by ${i.user.username}` });
      } else if (i.isButton() && i.customId === 'later:1') {
        await i.deferUpdate();
        await i.editReply({ content: 'image v3' });
      }
    };
    const h = await driver.runCommand(alice(), general(), 'imagine', { prompt: 'b' });
    const first = await driver.waitForBotReply(h);
    const press = driver.pressButton(bob(), first, 'reroll:1');
    const updated = await driver.waitForBotReply(press);
    expect(updated.id).toBe(first.id);
    expect(updated.content).toBe('image v2 by bob');
    expect(driver.interactionOutcome(press).response).toBe('update');
    const later = driver.pressButton(bob(), first, 'later:1');
    await driver.waitForBotReply(later, { match: (m) => m.content === 'image v3' });
    expect(driver.interactionOutcome(later)).toMatchObject({ response: 'deferred-update', deferred: true });
    expect(driver.messageHistory(first.id).map((m) => m.content)).toEqual([
      'image v1',
      'image v2 by bob',
      'image v3',
    ]);
    expect(() => driver.pressButton(bob(), first, 'missing')).toThrow(/no button/);
  });

  it('round-trips a modal', async () => {
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        const modal = new ModalBuilder().setCustomId('edit-prompt').setTitle('Edit prompt');
        modal.addComponents(
          new ActionRowBuilder<TextInputBuilder>().addComponents(
            new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Short),
          ),
        );
        await i.showModal(modal);
      } else if (i.isModalSubmit()) {
        await i.reply(`new prompt: ${i.fields.getTextInputValue('prompt')}`);
      }
    };
    const h = await driver.runCommand(carol(), general(), 'form');
    const outcome = await driver.waitForOutcome(h);
    expect(outcome.response).toBe('modal');
    expect(outcome.modal?.title).toBe('Edit prompt');
    const submit = driver.submitModal(carol(), h, 'edit-prompt', { prompt: 'three blue squares' });
    expect((await driver.waitForBotReply(submit)).content).toBe('new prompt: three blue squares');
  });

  it('delivers a message context-menu command with the target message', async () => {
    let target: { id: string; attachments: number } | undefined;
    handler = async (i) => {
      if (!i.isMessageContextMenuCommand()) return;
      target = { id: i.targetMessage.id, attachments: i.targetMessage.attachments.size };
      await i.reply('it is a red rectangle');
    };
    const msg = await driver.sendMessage(bob(), general(), {
      content: 'look',
      attachments: [{ name: 'x.png', data: await png() }],
    });
    const h = driver.runContextMenu(alice(), msg, 'Describe image');
    expect((await driver.waitForBotReply(h)).content).toBe('it is a red rectangle');
    expect(target).toEqual({ id: msg.id, attachments: 1 });
  });

  it('a callback after the acknowledgement window gets 10062 and the interaction failed', async () => {
    let error: unknown;
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await new Promise((r) => setTimeout(r, 1200));
      await i.reply('too late').catch((err) => {
        error = err;
      });
    };
    const h = await driver.runCommand(bob(), general(), 'imagine', { prompt: 'slow' });
    const outcome = await driver.waitForOutcome(h);
    expect(outcome).toMatchObject({ state: 'failed', failureReason: 'The application did not respond' });
    await driver.waitFor(() => error);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(10062);
    await expect(driver.waitForBotReply(h, { timeoutMs: 200 })).rejects.toThrow(/did not respond/);
    expect(driver.interactionOutcome(h).lateCallbacks).toBe(1);
  });

  it('an expired interaction token gets 50027 (401) on edit', async () => {
    let error: unknown;
    let gate!: () => void;
    const expired = new Promise<void>((r) => {
      gate = r;
    });
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await expired;
      await i.editReply('finally').catch((err) => {
        error = err;
      });
    };
    const h = await driver.runCommand(bob(), general(), 'imagine', { prompt: 'long job' });
    await driver.waitForOutcome(h);
    driver.expireInteractionTokens();
    gate();
    await driver.waitFor(() => error);
    expect((error as DiscordAPIError).code).toBe(50027);
    expect((error as DiscordAPIError).status).toBe(401);
  });

  it('a second callback gets 40060 (already acknowledged)', async () => {
    let error: unknown;
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.reply('once');
      await client.rest
        .post(`/interactions/${i.id}/${i.token}/callback`, {
          body: { type: 4, data: { content: 'twice' } },
          auth: false,
        })
        .catch((err) => {
          error = err;
        });
    };
    await driver.runCommand(bob(), general(), 'imagine', { prompt: 'twice' });
    await driver.waitFor(() => error);
    expect((error as DiscordAPIError).code).toBe(40060);
  });

  it('no bot handler errors leaked from the scenarios above', () => {
    const unexpected = botErrors.filter((e) => !(e instanceof DiscordAPIError));
    expect(unexpected).toEqual([]);
  });

  const carol = () => driver.users.carol;
});
