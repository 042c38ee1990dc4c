import { type Client, Events } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { loginClient, png, registerCommands } from './helpers.js';

/** The "try it locally" page over plain HTTP (the headless-browser test comes later). */
describe('local web page', () => {
  let driver: LocalDiscordDriver;
  let client: Client;

  beforeAll(async () => {
    driver = await LocalDiscordDriver.start();
    client = await loginClient(driver);
    await registerCommands(client, [
      {
        name: 'imagine',
        description: 'Make an image',
        options: [
          { type: 3, name: 'prompt', description: 'What', required: true },
          { type: 11, name: 'image', description: 'Start image' },
        ],
      },
    ]);
    client.on(Events.InteractionCreate, async (i) => {
      if (i.isChatInputCommand()) {
        await i.deferReply();
        const got = i.options.getAttachment('image');
        await i.editReply({
          content: `${i.options.getString('prompt')} (${got ? got.name : 'no image'})`,
          files: [{ attachment: await png(3, 3), name: 'out.png' }],
        });
      }
    });
  });
  afterAll(async () => {
    await client.destroy();
    await driver.stop();
  });

  const post = async (
    path: string,
    payload: Record<string, unknown>,
    files: { name: string; data: Buffer }[] = [],
  ) => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify(payload));
    files.forEach((f, i) => {
      form.append(`files[${i}]`, new Blob([new Uint8Array(f.data)]), f.name);
    });
    return fetch(`${driver.baseUrl}/app/api${path}`, { method: 'POST', body: form });
  };

  it('serves the page and its script', async () => {
    const html = await (await fetch(`${driver.baseUrl}/`)).text();
    expect(html).toContain('<script type="module" src="/app/app.js">');
    const js = await fetch(`${driver.baseUrl}/app/app.js`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await js.text()).toContain('EventSource');
  });

  it('lists users, channels and registered commands', async () => {
    const state = (await (await fetch(`${driver.baseUrl}/app/api/state`)).json()) as Record<
      string,
      { name?: string; username?: string }[]
    >;
    expect(state.users?.map((u) => u.username)).toEqual(['alice', 'bob', 'carol']);
    expect(state.channels?.map((c) => c.name)).toContain('general');
    expect(state.commands?.map((c) => c.name)).toEqual(['imagine']);
  });

  it('runs "/imagine two red circles" with an attached image and streams the bot’s edits', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${driver.baseUrl}/app/api/events`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    let text = '';
    const res = await post(
      '/commands',
      { user: driver.users.bob.id, channel: driver.channels.general.id, text: '/imagine two red circles' },
      [{ name: 'me.png', data: await png() }],
    );
    expect(res.status).toBe(200);
    const outcome = (await res.json()) as { id: string };
    const reply = await driver.waitUntilBotMessageHasImage(outcome);
    expect(reply.message.content).toBe('two red circles (me.png)');
    while (!text.includes('event: messageUpdate')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('event: interactionCreate');
    expect(text).toContain('event: messageCreate');
  });

  it('posts a plain message as the chosen user and reports mistakes as 400', async () => {
    const res = await post('/messages', {
      user: driver.users.carol.id,
      channel: driver.channels.art.id,
      content: 'hello',
    });
    expect(res.status).toBe(200);
    expect(driver.messages(driver.channels.art).at(-1)?.author.username).toBe('carol');
    const bad = await post('/commands', {
      user: driver.users.carol.id,
      channel: driver.channels.art.id,
      text: '/nope',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown command/);
  });
});
