import { describe, expect, it } from 'vitest';
import { buildTurns, cleanMessageText, lastImage } from '../../../bot/chat/build-turns.js';
import { classifyChatIntent, withoutLeadIns } from '../../../bot/chat/classify-intent.js';
import { type ChainMessage, collectReplyChain } from '../../../bot/chat/reply-chain.js';

const BOT = '900000000000000001';
const img = (name: string) => ({
  name,
  url: `https://cdn.discordapp.com/${name}`,
  contentType: 'image/png',
  size: 10,
});
const msg = (id: string, over: Partial<ChainMessage> = {}): ChainMessage => ({
  id,
  authorId: 'u1',
  fromBot: false,
  text: '',
  images: [],
  ...over,
});

describe('collectReplyChain', () => {
  const all = new Map<string, ChainMessage>([
    ['1', msg('1', { text: `<@${BOT}> draw a red circle` })],
    ['2', msg('2', { authorId: BOT, fromBot: true, images: [img('r.png')], parentId: '1' })],
    ['3', msg('3', { text: 'now make it green', parentId: '2' })],
  ]);
  const fetchParent = async (id: string) => all.get(id);

  it('walks references back to the root, oldest first', async () => {
    const chain = await collectReplyChain(all.get('3')!, fetchParent, 10);
    expect(chain.map((m) => m.id)).toEqual(['1', '2', '3']);
  });

  it('stops at the depth bound, keeping the newest messages', async () => {
    const chain = await collectReplyChain(all.get('3')!, fetchParent, 2);
    expect(chain.map((m) => m.id)).toEqual(['2', '3']);
  });

  it('stops at deleted parents and at cycles', async () => {
    const gone = await collectReplyChain(msg('9', { parentId: 'missing' }), fetchParent, 10);
    expect(gone.map((m) => m.id)).toEqual(['9']);
    const failing = await collectReplyChain(
      msg('9', { parentId: 'x' }),
      async () => {
        throw new Error('Unknown Message');
      },
      10,
    );
    expect(failing).toHaveLength(1);
    const loop = new Map([
      ['a', msg('a', { parentId: 'b' })],
      ['b', msg('b', { parentId: 'a' })],
    ]);
    const cyc = await collectReplyChain(loop.get('a')!, async (id) => loop.get(id), 10);
    expect(cyc.map((m) => m.id)).toEqual(['b', 'a']);
  });
});

describe('buildTurns', () => {
  it('assigns roles, strips the bot mention and keeps images from both sides', () => {
    const chain = [
      msg('1', { text: `<@${BOT}> draw a red circle` }),
      msg('2', { authorId: BOT, fromBot: true, images: [img('r.png')] }),
      msg('3', { text: 'now make it green', images: [img('u.png')] }),
    ];
    const turns = buildTurns(chain, BOT, 4);
    expect(turns).toEqual([
      { role: 'user', text: 'draw a red circle', images: [] },
      { role: 'assistant', text: '', images: [img('r.png')] },
      { role: 'user', text: 'now make it green', images: [img('u.png')] },
    ]);
    expect(lastImage(turns)?.name).toBe('u.png');
  });

  it('merges consecutive messages of one user and split answers', () => {
    const chain = [
      msg('1', { text: 'hello' }),
      msg('2', { text: 'are you there?', images: [img('a.png')] }),
      msg('3', { authorId: BOT, fromBot: true, text: 'part one' }),
      msg('4', { authorId: BOT, fromBot: true, text: 'part two' }),
    ];
    const turns = buildTurns(chain, BOT, 4);
    expect(turns).toHaveLength(2);
    expect(turns[0]).toEqual({ role: 'user', text: 'hello\nare you there?', images: [img('a.png')] });
    expect(turns[1]!.text).toBe('part one\npart two');
  });

  it('keeps only the newest images within the budget', () => {
    const chain = [
      msg('1', { images: [img('1.png'), img('2.png')] }),
      msg('2', { authorId: BOT, fromBot: true, images: [img('3.png')] }),
      msg('3', { images: [img('4.png')] }),
    ];
    const turns = buildTurns(chain, BOT, 2);
    expect(turns.flatMap((t) => t.images.map((i) => i.name))).toEqual(['3.png', '4.png']);
  });

  it('turns other mentions into plain text so nobody is pinged through the model', () => {
    expect(cleanMessageText(`<@!${BOT}> hi <@123> and <@&456>`, BOT)).toBe('hi @someone and @someone');
  });
});

describe('classifyChatIntent', () => {
  it('treats instructions as edits when there is an image', () => {
    for (const t of [
      'now make the square green',
      'Make it blue.',
      'ok, remove the triangle',
      'could you turn it red?',
    ])
      expect(classifyChatIntent(t, true), t).toBe('edit');
  });
  it('sends requests for a new image to draw, with or without an image', () => {
    for (const t of [
      'draw a red circle',
      'Please, generate two blue squares!',
      'ok now make an image of a green triangle',
      'can you draw a red circle above a blue square?',
      'show me three circles',
    ]) {
      expect(classifyChatIntent(t, true), t).toBe('draw');
      expect(classifyChatIntent(t, false), t).toBe('draw');
    }
    expect(classifyChatIntent('draw what?', true)).toBe('ask');
    expect(classifyChatIntent('drawing is fun', false)).toBe('chat');
  });
  it('asks for the caption when the message wants the whole image described', () => {
    for (const t of ['describe the image', "What's in this picture?", 'caption it', 'what do you see', ''])
      expect(classifyChatIntent(t, true), t).toBe('describe');
    expect(classifyChatIntent('describe the image', false)).toBe('chat');
    expect(classifyChatIntent('what is in the top left?', true)).toBe('ask');
  });
  it('sends questions about an image to ask, and the rest to chat', () => {
    for (const t of ['what colour is the circle?', 'how many squares are there', 'make what?', 'is it red'])
      expect(classifyChatIntent(t, true), t).toBe('ask');
    expect(classifyChatIntent('what colour is the circle?', false)).toBe('chat');
    expect(classifyChatIntent('make a red circle', false)).toBe('chat');
    expect(classifyChatIntent('thanks, nice', true)).toBe('chat');
  });
});

describe('withoutLeadIns', () => {
  it('drops politeness and sequencing words in front, and only whole words', () => {
    expect(withoutLeadIns('OK, now please draw two red circles')).toBe('draw two red circles');
    expect(withoutLeadIns('can you draw it?')).toBe('draw it?');
    expect(withoutLeadIns('nowhere to draw')).toBe('nowhere to draw');
  });
});
