import type { APIAttachment, APIInteractionDataResolvedGuildMember, APIUser } from 'discord.js';

/** A file as a test or the web page supplies it. */
export interface FileInput {
  name: string;
  data: Buffer | Uint8Array;
  /** Kept as given (lets tests send a fake content type); sniffed from the bytes when absent. */
  contentType?: string;
  /** Hostile-input tests: the attachment claims to live at this URL instead of this server's CDN. */
  url?: string;
}

export type OptionValue = string | number | boolean | FileInput | { id: string };
export type OptionValues = Record<string, OptionValue>;

interface OptionDef {
  type: number;
  name: string;
  required?: boolean;
  options?: OptionDef[];
  choices?: { value: string | number }[];
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
}

export interface OptionContext {
  upload: (file: FileInput) => Promise<APIAttachment>;
  user: (id: string) => { user: APIUser; member?: APIInteractionDataResolvedGuildMember } | undefined;
}

export interface BuiltOptions {
  options: Record<string, unknown>[];
  resolved: {
    attachments?: Record<string, APIAttachment>;
    users?: Record<string, APIUser>;
    members?: Record<string, unknown>;
  };
}

const T = {
  SubCommand: 1,
  Group: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Number: 10,
  Attachment: 11,
} as const;

/** Thrown when a real Discord client would not let the user send these options. */
export class InvalidOptionsError extends Error {}

/**
 * Turns `{ prompt: 'two red circles', image: {name, data} }` into interaction options the way the
 * Discord client does: checked against the registered definition (types, required, choices, ranges).
 * `path` holds subcommand group / subcommand names (from `/name group sub`).
 */
export async function buildOptions(
  defs: OptionDef[] | undefined,
  values: OptionValues,
  path: string[],
  ctx: OptionContext,
): Promise<BuiltOptions> {
  const resolved: BuiltOptions['resolved'] = {};
  const [head, ...rest] = path;
  if (head !== undefined) {
    const sub = (defs ?? []).find((d) => d.name === head && (d.type === T.SubCommand || d.type === T.Group));
    if (!sub) throw new InvalidOptionsError(`unknown subcommand ${head}`);
    const inner = await buildOptions(sub.options, values, rest, ctx);
    return {
      options: [{ type: sub.type, name: sub.name, options: inner.options }],
      resolved: inner.resolved,
    };
  }
  const options: Record<string, unknown>[] = [];
  for (const name of Object.keys(values)) {
    if (!(defs ?? []).some((d) => d.name === name)) throw new InvalidOptionsError(`unknown option ${name}`);
  }
  for (const def of defs ?? []) {
    const value = values[def.name];
    if (value === undefined) {
      if (def.required) throw new InvalidOptionsError(`missing required option ${def.name}`);
      continue;
    }
    options.push({ type: def.type, name: def.name, value: await convert(def, value, ctx, resolved) });
  }
  return { options, resolved };
}

async function convert(
  def: OptionDef,
  value: OptionValue,
  ctx: OptionContext,
  resolved: BuiltOptions['resolved'],
): Promise<unknown> {
  const fail = (why: string) => new InvalidOptionsError(`option ${def.name}: ${why}`);
  switch (def.type) {
    case T.String: {
      if (typeof value !== 'string') throw fail('expected a string');
      if (def.min_length !== undefined && value.length < def.min_length) throw fail('too short');
      if (def.max_length !== undefined && value.length > def.max_length) throw fail('too long');
      checkChoice(def, value, fail);
      return value;
    }
    case T.Integer:
    case T.Number: {
      if (typeof value !== 'number' || (def.type === T.Integer && !Number.isInteger(value)))
        throw fail('expected a number');
      if (def.min_value !== undefined && value < def.min_value) throw fail('below minimum');
      if (def.max_value !== undefined && value > def.max_value) throw fail('above maximum');
      checkChoice(def, value, fail);
      return value;
    }
    case T.Boolean:
      if (typeof value !== 'boolean') throw fail('expected a boolean');
      return value;
    case T.User: {
      const id = typeof value === 'string' ? value : (value as { id?: string }).id;
      const found = id ? ctx.user(id) : undefined;
      if (!id || !found) throw fail('unknown user');
      resolved.users = { ...resolved.users, [id]: found.user };
      if (found.member) resolved.members = { ...resolved.members, [id]: found.member };
      return id;
    }
    case T.Attachment: {
      if (typeof value !== 'object' || !('data' in value)) throw fail('expected a file');
      const att = await ctx.upload(value);
      resolved.attachments = { ...resolved.attachments, [att.id]: att };
      return att.id;
    }
    default:
      throw fail(`option type ${def.type} is not supported by the local Discord`);
  }
}

function checkChoice(def: OptionDef, value: string | number, fail: (why: string) => Error): void {
  if (def.choices && def.choices.length > 0 && !def.choices.some((c) => c.value === value))
    throw fail('not one of the choices');
}
