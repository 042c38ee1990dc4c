/**
 * Just enough of a Dockerfile parser for the checks in dockerfile.test.ts: stages, their WORKDIR,
 * what each COPY brings in from the build context, and the repository files each stage runs.
 */
import { posix } from 'node:path';

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface CopyFromContext {
  line: number;
  /** Paths in the build context (the repository), as written. */
  sources: string[];
  /** Absolute destination in the image. */
  dest: string;
  /** True when the destination names a directory (ends in "/" or there are several sources). */
  destIsDir: boolean;
}

export interface Stage {
  name: string;
  base: string;
  copies: CopyFromContext[];
  /** `COPY --from=<stage>` references. */
  copiesFromStages: string[];
  /** Files named in RUN, CMD, ENTRYPOINT and HEALTHCHECK: absolute paths in the image (from WORKDIR). */
  runs: { line: number; imagePath: string }[];
  /** The last USER instruction, if any. */
  user?: string;
  /** ENV key=value pairs. */
  env: Record<string, string>;
}

/** Instructions with continuation lines joined and comments dropped. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending && line.trimStart().startsWith('#')) return; // comments inside a continued instruction
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    pending = pending
      ? { line: pending.line, text: `${pending.text} ${body.trim()}` }
      : { line: i + 1, text: body };
    if (!continued) {
      const [keyword = '', ...rest] = pending.text.trim().split(/\s+/);
      out.push({ line: pending.line, keyword: keyword.toUpperCase(), args: rest.join(' ') });
      pending = undefined;
    }
  });
  return out;
}

/** Words of a shell-form or JSON-form (exec) argument list, flags like --chown kept. */
function words(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return (JSON.parse(trimmed) as string[]).flatMap((w) => w.split(/\s+/));
  return trimmed.split(/\s+/);
}

const SCRIPT = /^[\w.-]+(\/[\w.-]+)*\.(ts|mts|js|mjs|sh|py)$/;

/** Files a command runs: words that look like relative script paths (quotes stripped). */
function scriptPaths(args: string): string[] {
  return words(args)
    .map((w) => w.replace(/^[[\\"']+|[\\"',;&|\]]+$/g, ''))
    .filter((w) => SCRIPT.test(w) && !w.startsWith('/'));
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let workdir = '/';
  for (const ins of instructions(text)) {
    if (ins.keyword === 'FROM') {
      const [base = '', as, name] = ins.args.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length),
        base,
        copies: [],
        copiesFromStages: [],
        runs: [],
        env: {},
      });
      workdir = '/';
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
    switch (ins.keyword) {
      case 'USER':
        stage.user = ins.args.trim();
        break;
      case 'ENV':
        for (const pair of ins.args.trim().split(/\s+/)) {
          const eq = pair.indexOf('=');
          if (eq > 0) stage.env[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        break;
      case 'WORKDIR':
        workdir = posix.resolve(workdir, ins.args.trim());
        break;
      case 'COPY':
      case 'ADD': {
        const all = words(ins.args);
        const from = all.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = all.filter((w) => !w.startsWith('--'));
        const dest = paths.pop() ?? '';
        if (from) {
          stage.copiesFromStages.push(from);
          break;
        }
        stage.copies.push({
          line: ins.line,
          sources: paths,
          dest: posix.resolve(workdir, dest),
          destIsDir: dest.endsWith('/') || paths.length > 1,
        });
        break;
      }
      case 'RUN':
      case 'CMD':
      case 'ENTRYPOINT':
      case 'HEALTHCHECK':
        for (const p of scriptPaths(ins.args)) {
          stage.runs.push({ line: ins.line, imagePath: posix.resolve(workdir, p) });
        }
        break;
    }
  }
  return stages;
}

/**
 * The repository path that ends up at `imagePath` (absolute) in `stage`, or undefined when no COPY
 * from the build context puts anything there. `isDir(source)` says whether a source is a directory.
 */
export function sourceOf(
  stage: Stage,
  imagePath: string,
  isDir: (source: string) => boolean,
): string | undefined {
  for (const copy of [...stage.copies].reverse()) {
    for (const source of copy.sources) {
      const clean = posix.normalize(source).replace(/\/$/, '');
      if (isDir(clean)) {
        // COPY dir dest: the directory's contents land in dest.
        const prefix = `${copy.dest}/`;
        if (imagePath.startsWith(prefix)) return posix.join(clean, imagePath.slice(prefix.length));
      } else {
        const target = copy.destIsDir ? posix.join(copy.dest, posix.basename(clean)) : copy.dest;
        if (target === imagePath) return clean;
      }
    }
  }
  return undefined;
}
