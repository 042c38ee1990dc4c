import { describe, expect, it } from 'vitest';
import { detectContentType, sanitizeFilename } from '../../local-discord/attachments.js';
import { Router } from '../../local-discord/http/router.js';
import { computeMentions } from '../../local-discord/mentions.js';
import { validateCommand } from '../../local-discord/routes/commands.js';
import { compareSnowflakes, nextSnowflake, snowflakeTime } from '../../local-discord/snowflake.js';
import { parseCommandText } from '../../local-discord/web/command-text.js';

describe('snowflakes', () => {
  it('are 17-19 digits, increasing, and carry their time', () => {
    const before = Date.now(); // taken before the checks below, which are slow on a loaded machine
    const ids = Array.from({ length: 5000 }, () => nextSnowflake());
    expect(Math.abs(snowflakeTime(ids[0]!) - before)).toBeLessThan(2000);
    for (const id of ids) expect(id).toMatch(/^\d{17,19}$/);
    for (let i = 1; i < ids.length; i++) expect(compareSnowflakes(ids[i - 1]!, ids[i]!)).toBe(-1);
  });
});

describe('router', () => {
  it('decodes segments, so %40original matches @original', () => {
    const r = new Router().add('GET', '/webhooks/:app/:token/messages/:message', () => null);
    expect(r.match('GET', '/webhooks/1/abc/messages/%40original')?.params.message).toBe('@original');
    expect(r.match('POST', '/webhooks/1/abc/messages/%40original')).toBeUndefined();
  });
});

describe('mentions', () => {
  const base = {
    knownUserIds: (id: string) => id.startsWith('1'),
    knownRoleIds: () => true,
    repliedAuthorId: null,
    canMentionEveryone: true,
  };
  it('parses users and @everyone unless allowed_mentions restricts them', () => {
    const content = '<@111111111111111111> <@!122222222222222222> @everyone';
    expect(computeMentions({ ...base, content, allowed: undefined })).toEqual({
      userIds: ['111111111111111111', '122222222222222222'],
      roleIds: [],
      everyone: true,
    });
    expect(computeMentions({ ...base, content, allowed: { parse: [] } })).toEqual({
      userIds: [],
      roleIds: [],
      everyone: false,
    });
  });
  it('pings the replied-to author by default, not when replied_user is off', () => {
    const input = { ...base, content: 'hi', repliedAuthorId: '133333333333333333' };
    expect(computeMentions({ ...input, allowed: undefined }).userIds).toEqual(['133333333333333333']);
    expect(computeMentions({ ...input, allowed: { parse: ['users'] } }).userIds).toEqual([]);
  });
  it('needs MENTION_EVERYONE for @everyone', () => {
    expect(
      computeMentions({ ...base, canMentionEveryone: false, content: '@here', allowed: undefined }).everyone,
    ).toBe(false);
  });
});

describe('attachments', () => {
  it('sniffs images from their bytes, not their names', () => {
    const pngHeader = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect(detectContentType(pngHeader, 'photo.jpg')).toBe('image/png');
    expect(detectContentType(Buffer.from('hello'), 'notes.txt')).toBe('text/plain; charset=utf-8');
    expect(detectContentType(Buffer.from('hello'), 'x.exe')).toBe('application/octet-stream');
  });
  it('keeps stored file names to safe characters', () => {
    expect(sanitizeFilename('../../etc/pass wd.png')).toBe('.._.._etc_pass_wd.png');
    expect(sanitizeFilename('???')).toBe('unknown');
  });
});

describe('command registration checks', () => {
  it('accepts a valid command and refuses bad names and descriptions with 50035', () => {
    expect(validateCommand({ name: 'imagine', description: 'Draw' }, 0).type).toBe(1);
    expect(validateCommand({ name: 'Describe image', type: 3 }, 0).name).toBe('Describe image');
    expect(() => validateCommand({ name: 'Imagine', description: 'Draw' }, 0)).toThrow(/Invalid Form Body/);
    expect(() => validateCommand({ name: 'imagine', description: '' }, 0)).toThrow(/Invalid Form Body/);
  });
});

describe('command text from the web page', () => {
  const commands = [
    {
      name: 'imagine',
      options: [
        { type: 3, name: 'prompt', required: true },
        { type: 4, name: 'seed' },
        { type: 11, name: 'image' },
      ],
    },
    { name: 'settings', options: [{ type: 1, name: 'set', options: [{ type: 3, name: 'style' }] }] },
  ];
  it('puts free text into the first string option', () => {
    expect(parseCommandText('/imagine two red circles', commands)).toEqual({
      name: 'imagine',
      options: { prompt: 'two red circles' },
    });
  });
  it('reads labelled options with types, files and subcommands', () => {
    const file = { name: 'a.png', data: Buffer.from('x') };
    expect(parseCommandText('/imagine prompt: a cat seed: 5', commands, [file])).toEqual({
      name: 'imagine',
      options: { prompt: 'a cat', seed: 5, image: file },
    });
    expect(parseCommandText('/settings set style: pixel', commands)).toEqual({
      name: 'settings set',
      options: { style: 'pixel' },
    });
    expect(() => parseCommandText('/nope', commands)).toThrow(/unknown command/);
  });
});
