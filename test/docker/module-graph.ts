/**
 * The files an entry point loads at run time: relative imports (static and dynamic, not `import type`)
 * and files located with `new URL('./x', import.meta.url)`, followed recursively; plus the npm
 * packages it imports. Regular expressions, not a TypeScript parse: enough for this repository's style.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';

export interface ModuleGraph {
  /** Repository-relative paths of every local file reached, the entry included. */
  files: Set<string>;
  /** npm package names imported by those files. */
  packages: Set<string>;
}

const IMPORT_FROM = /(?:^|[\s;])(?:import|export)\s+(type\s+)?[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g;
const SIDE_EFFECT_IMPORT = /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
const URL_REF = /new URL\(\s*['"](\.{1,2}\/?[^'"]*)['"]\s*,\s*import\.meta\.url\s*\)/g;
const CODE = /\.(ts|mts|js|mjs)$/;
const BUILTINS = new Set(builtinModules);

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Without comments, so commented-out imports do not count. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

export function moduleGraph(root: string, entry: string): ModuleGraph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const isFile = (p: string) => existsSync(posix.join(root, p)) && statSync(posix.join(root, p)).isFile();
  // TypeScript sources are imported with a .js suffix (NodeNext).
  const resolveLocal = (from: string, specifier: string): string => {
    const target = posix.normalize(posix.join(posix.dirname(from), specifier));
    if (!isFile(target) && target.endsWith('.js') && isFile(`${target.slice(0, -3)}.ts`)) {
      return `${target.slice(0, -3)}.ts`;
    }
    return target;
  };
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    if (!CODE.test(file) || !isFile(file)) return;
    const source = stripComments(readFileSync(posix.join(root, file), 'utf8'));
    const specifiers: string[] = [];
    for (const m of source.matchAll(IMPORT_FROM)) if (!m[1]) specifiers.push(m[2]!);
    for (const m of source.matchAll(SIDE_EFFECT_IMPORT)) specifiers.push(m[1]!);
    for (const m of source.matchAll(DYNAMIC_IMPORT)) specifiers.push(m[1]!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolveLocal(file, specifier));
      else if (!specifier.startsWith('node:') && !BUILTINS.has(specifier))
        packages.add(packageName(specifier));
    }
    for (const m of source.matchAll(URL_REF)) {
      const target = resolveLocal(file, m[1]!);
      if (isFile(target)) visit(target); // directories (e.g. the repository root) are not files to load
    }
  };
  visit(entry);
  return { files, packages };
}
