/**
 * Where the real-runtime suites find a model package: the bundled models/shapes-ddt-small once it is
 * exported, else the runtime's tiny random fixture (test/inference/runtime/fixtures/tiny-package).
 * Undefined when neither exists; those suites are then skipped.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundled = fileURLToPath(new URL('../../../models', import.meta.url));
const tiny = fileURLToPath(new URL('../runtime/fixtures', import.meta.url));

export function findModelsDir(): { dir: string; pkg: string } | undefined {
  if (existsSync(`${bundled}/shapes-ddt-small/manifest.json`))
    return { dir: bundled, pkg: 'shapes-ddt-small' };
  if (existsSync(`${tiny}/tiny-package/manifest.json`)) return { dir: tiny, pkg: 'tiny-package' };
  return undefined;
}
