/**
 * Reads a command's options with types derived from its JSON definition, so a handler cannot ask
 * for an option its `data` does not declare, and required options are not `| undefined`.
 */
import {
  ApplicationCommandOptionType,
  type Attachment,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
} from 'discord.js';

export interface OptionDef {
  readonly name: string;
  readonly type: ApplicationCommandOptionType;
  readonly required?: boolean;
}

type ValueOf<T> = T extends ApplicationCommandOptionType.String
  ? string
  : T extends ApplicationCommandOptionType.Integer | ApplicationCommandOptionType.Number
    ? number
    : T extends ApplicationCommandOptionType.Boolean
      ? boolean
      : T extends ApplicationCommandOptionType.Attachment
        ? Attachment
        : T extends ApplicationCommandOptionType.Channel | ApplicationCommandOptionType.User
          ? string // the id
          : never;

export type OptionsOf<D extends { readonly options: readonly OptionDef[] }> = {
  [O in D['options'][number] as O['name']]: O['required'] extends true
    ? ValueOf<O['type']>
    : ValueOf<O['type']> | undefined;
};

/** Minimal view of discord.js's option resolver (also easy to fake in tests). */
export interface OptionSource {
  get(name: string): CommandInteractionOption | null;
}

export function readOptions<D extends { readonly options: readonly OptionDef[] }>(
  source: OptionSource | ChatInputCommandInteraction,
  data: D,
): OptionsOf<D> {
  const resolver: OptionSource = 'options' in source ? source.options : source;
  const out: Record<string, unknown> = {};
  for (const def of data.options) {
    const option = resolver.get(def.name);
    let value: unknown;
    if (def.type === ApplicationCommandOptionType.Attachment) value = option?.attachment;
    else if (def.type === ApplicationCommandOptionType.Channel) value = option?.channel?.id ?? option?.value;
    else if (def.type === ApplicationCommandOptionType.User) value = option?.user?.id ?? option?.value;
    else value = option?.value;
    if (value === undefined || value === null) {
      if (def.required) throw new Error(`required option "${def.name}" missing`); // Discord enforces this; a bug if hit
      value = undefined;
    }
    out[def.name] = value;
  }
  return out as OptionsOf<D>;
}
