/**
 * A model package without its best-of-N work: the same graph files (linked, not copied) with a manifest that
 * turns off image and caption candidates, caption refinement and plans. One request of such a package is a
 * single row, so it shows what batching across clients gains when requests do not already fill the machine.
 */
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function writePlainPackage(packageDir: string, intoDir: string): string {
  const source = resolve(packageDir);
  for (const file of readdirSync(source)) {
    if (file !== 'manifest.json') symlinkSync(join(source, file), join(intoDir, file));
  }
  const manifest = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8')) as {
    name: string;
    prompting: Record<string, unknown>;
    generation: Record<string, unknown>;
  };
  manifest.name = `${manifest.name}-plain`;
  manifest.generation.image_candidates = 0;
  manifest.generation.caption_candidates = 0;
  delete manifest.generation.caption_refine;
  delete manifest.prompting.plan_template;
  delete manifest.prompting.edit_plan_template;
  writeFileSync(join(intoDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return intoDir;
}
