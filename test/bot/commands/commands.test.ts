import { ApplicationCommandOptionType, type CommandInteractionOption } from 'discord.js';
import { describe, expect, it } from 'vitest';
import * as imagine from '../../../bot/commands/imagine.js';
import { commandPayloads, messageCommands, slashCommands } from '../../../bot/commands/index.js';
import { readOptions } from '../../../bot/commands/read-options.js';

// Discord's rules for chat-input names (lower case; letters, digits, - and _).
const SLASH_NAME = /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u;

interface Opt {
  name: string;
  description: string;
  type: number;
  required?: boolean;
  options?: Opt[];
  name_localizations?: Record<string, string>;
}

function walk(options: readonly Opt[] | undefined, visit: (o: Opt) => void) {
  for (const o of options ?? []) {
    visit(o);
    walk(o.options, visit);
  }
}

describe('command definitions', () => {
  it('registers every command once, with valid names and descriptions', () => {
    const payloads = commandPayloads() as { name: string; type: number }[];
    expect(payloads.map((p) => p.name).sort()).toEqual(
      [
        'Ask about image…',
        'Caption image',
        'Edit image…',
        'ask',
        'blend',
        'caption',
        'edit',
        'help',
        'imagine',
        'reveal',
        'settings',
      ].sort(),
    );
    for (const c of slashCommands) {
      expect(c.data.name).toMatch(SLASH_NAME);
      expect(c.data.description.length).toBeLessThanOrEqual(100);
      walk(c.data.options as readonly Opt[], (o) => {
        expect(o.name, `${c.data.name}.${o.name}`).toMatch(SLASH_NAME);
        expect(o.description.length).toBeGreaterThan(0);
        expect(o.description.length).toBeLessThanOrEqual(100);
        for (const n of Object.values(o.name_localizations ?? {})) expect(n).toMatch(SLASH_NAME);
      });
      // Discord requires required options before optional ones.
      const opts = (c.data.options ?? []) as readonly Opt[];
      const firstOptional = opts.findIndex((o) => !o.required);
      if (firstOptional >= 0) expect(opts.slice(firstOptional).some((o) => o.required)).toBe(false);
    }
    for (const c of messageCommands) expect(c.data.name.length).toBeLessThanOrEqual(32);
  });

  it('localises every command name and description into German', () => {
    for (const c of slashCommands) {
      expect(c.data.name_localizations?.de, c.data.name).toMatch(SLASH_NAME);
      expect(c.data.description_localizations?.de, c.data.name).toBeTruthy();
    }
    for (const c of messageCommands) expect(c.data.name_localizations?.de, c.data.name).toBeTruthy();
  });

  it('limits /settings to Manage Server in guilds', () => {
    const settings = slashCommands.find((c) => c.data.name === 'settings')!;
    expect(settings.data.default_member_permissions).toBe('32');
    expect(settings.data.contexts).toEqual([0]);
  });
});

describe('readOptions', () => {
  const source = (values: Record<string, unknown>) => ({
    get: (name: string) =>
      name in values
        ? ({
            name,
            type: ApplicationCommandOptionType.String,
            value: values[name],
          } as CommandInteractionOption)
        : null,
  });

  it('reads declared options, optional ones as undefined', () => {
    const o = readOptions(source({ prompt: 'a red circle', count: 2 }), imagine.data);
    expect(o).toEqual({ prompt: 'a red circle', count: 2, seed: undefined });
  });

  it('throws when a required option is missing (Discord guarantees it; a bug otherwise)', () => {
    expect(() => readOptions(source({}), imagine.data)).toThrow(/prompt/);
  });
});
