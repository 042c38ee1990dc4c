import type { FileInput, OptionValues } from '../interactions/options.js';

interface OptionDef {
  type: number;
  name: string;
  required?: boolean;
  options?: OptionDef[];
}

export interface CommandDef {
  name: string;
  type?: number;
  options?: OptionDef[];
}

const SUB = 1;
const GROUP = 2;
const STRING = 3;
const INTEGER = 4;
const BOOLEAN = 5;
const NUMBER = 10;
const ATTACHMENT = 11;

/**
 * What the Discord client's command box does, for the web page: `/imagine two red circles` or
 * `/imagine prompt: two red circles seed: 5` -> name `imagine`, typed options. Free text without
 * `name:` labels fills the first string option; attached files fill attachment options in order.
 */
export function parseCommandText(
  text: string,
  commands: CommandDef[],
  files: FileInput[] = [],
): { name: string; options: OptionValues } {
  const words = text.trim().replace(/^\//, '').split(/\s+/).filter(Boolean);
  const cmd = commands.find((c) => (c.type ?? 1) === 1 && c.name === words[0]);
  if (!cmd) throw new Error(`unknown command /${words[0] ?? ''}`);
  const path = [cmd.name];
  let defs = cmd.options ?? [];
  let rest = words.slice(1);
  // Walk subcommand groups / subcommands named in the text.
  for (;;) {
    const sub = defs.find((d) => (d.type === SUB || d.type === GROUP) && d.name === rest[0]);
    if (!sub) break;
    path.push(sub.name);
    defs = sub.options ?? [];
    rest = rest.slice(1);
  }
  const options: OptionValues = {};
  const restText = rest.join(' ');
  const labelled = new RegExp(
    `(?:^|\\s)(${defs.map((d) => escapeRegExp(d.name)).join('|') || '(?!)'}):\\s*`,
    'g',
  );
  const marks = [...restText.matchAll(labelled)];
  if (marks.length > 0) {
    for (const [i, m] of marks.entries()) {
      const start = m.index! + m[0].length;
      const end = i + 1 < marks.length ? marks[i + 1]!.index! : restText.length;
      const def = defs.find((d) => d.name === m[1])!;
      options[def.name] = convert(def, restText.slice(start, end).trim());
    }
  } else if (restText.length > 0) {
    const first = defs.find((d) => d.type === STRING);
    if (!first) throw new Error(`/${cmd.name} takes no text`);
    options[first.name] = restText;
  }
  const attachmentDefs = defs.filter((d) => d.type === ATTACHMENT);
  for (const [i, f] of files.entries()) {
    const def = attachmentDefs[i];
    if (!def) throw new Error(`/${cmd.name} takes ${attachmentDefs.length} file(s)`);
    options[def.name] = f;
  }
  return { name: path.join(' '), options };
}

function convert(def: OptionDef, raw: string): string | number | boolean {
  if (def.type === INTEGER || def.type === NUMBER) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${def.name} must be a number`);
    return n;
  }
  if (def.type === BOOLEAN) return raw === 'true' || raw === 'yes';
  return raw;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
