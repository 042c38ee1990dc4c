/**
 * Docker does not run in CI, so the Dockerfile is checked statically: dockerfilelint, the targets and
 * their bases, every path it COPYs, and every script it runs together with everything that script
 * loads (local files copied into the same stage, npm packages installed without dev dependencies).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { moduleGraph } from './module-graph.js';
import { parseDockerfile, type Stage, sourceOf } from './parse-dockerfile.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const stages = parseDockerfile(dockerfile);
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
};
const isDir = (p: string) => existsSync(posix.join(ROOT, p)) && statSync(posix.join(ROOT, p)).isDirectory();

/** .dockerignore patterns (without negations); a simplified matcher: path or any parent matches. */
function ignoredByDockerignore(path: string): string | undefined {
  const file = `${ROOT}.dockerignore`;
  if (!existsSync(file)) return undefined;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/^\/+|\/+$/g, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*\*/g, '.*')
        .replace(/\*/g, '[^/]*')}$`,
    );
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const hit = patterns.find((p) => toRegex(p).test(prefix));
    if (hit) return hit;
  }
  return undefined;
}

describe('Dockerfile', () => {
  it('passes dockerfilelint', () => {
    const lint = spawnSync(`${ROOT}node_modules/.bin/dockerfilelint`, ['-j', 'Dockerfile'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(lint.error).toBeUndefined();
    const report = JSON.parse(lint.stdout) as { totalIssues: number; files: { issues: unknown[] }[] };
    expect(report.files[0]?.issues).toEqual([]);
    expect(report.totalIssues).toBe(0);
    expect(lint.status).toBe(0);
  });

  it('has bot, inference and inference-cuda targets that run as non-root users', () => {
    for (const name of ['bot', 'inference']) {
      expect(stage(name).base).toBe('node:20-bookworm-slim');
    }
    expect(stage('inference-cuda').base).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
    for (const name of ['bot', 'inference', 'inference-cuda']) {
      const user = stage(name).user;
      expect(user, `${name} USER`).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
    }
  });

  it('installs the CPU onnxruntime-node for the CPU images and the CUDA 12 one for the GPU image', () => {
    expect(stage('deps').env.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    expect(stage('deps-cuda').env.ONNXRUNTIME_NODE_INSTALL).toBe('cuda12');
    expect(stage('inference').copiesFromStages).toContain('deps');
    expect(stage('inference-cuda').copiesFromStages).toContain('deps-cuda');
    expect(stage('inference-cuda').env.EXECUTION_PROVIDER).toBe('cuda');
  });

  it('bundles the model package in the inference images', () => {
    for (const name of ['inference', 'inference-cuda']) {
      const manifest = sourceOf(stage(name), '/app/models/shapes-ddt-small/manifest.json', isDir);
      expect(manifest, name).toBe('models/shapes-ddt-small/manifest.json');
      expect(stage(name).env.MODELS_DIR).toBe('/app/models');
    }
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', () => {
    const copies = stages.flatMap((s) => s.copies.flatMap((c) => c.sources.map((src) => ({ s, c, src }))));
    expect(copies.length).toBeGreaterThan(0);
    for (const { c, src } of copies) {
      expect(src, `line ${c.line}: globs are not checked`).not.toMatch(/[*?[]/);
      expect(existsSync(posix.join(ROOT, src)), `line ${c.line}: COPY ${src} (missing)`).toBe(true);
      expect(ignoredByDockerignore(src), `line ${c.line}: COPY ${src} is excluded by .dockerignore`).toBe(
        undefined,
      );
    }
    for (const s of stages) {
      for (const from of s.copiesFromStages) {
        expect(
          stages.some((t) => t.name === from),
          `${s.name}: COPY --from=${from}`,
        ).toBe(true);
      }
    }
  });

  /** Each file a stage runs, with the repository file COPYed to that place (if any). */
  const runnable = stages.flatMap((s) =>
    s.runs.map((r) => ({
      stage: s,
      line: r.line,
      imagePath: r.imagePath,
      repo: sourceOf(s, r.imagePath, isDir),
    })),
  );

  it('runs scripts (CMD, HEALTHCHECK, RUN) that exist in the repository and are copied into their stage', () => {
    const names = runnable.map((r) => `${r.stage.name}:${r.repo}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'bot:scripts/bot-preflight.ts',
        'bot:bot/main.ts',
        'inference:inference/main.ts',
        'inference:scripts/healthcheck.ts',
        'inference-cuda:inference/main.ts',
        'inference-cuda:scripts/healthcheck.ts',
      ]),
    );
    // The images run TypeScript through `node --import tsx`: it must survive `npm ci --omit=dev`.
    if (dockerfile.includes('--import tsx')) expect(pkg.dependencies.tsx).toBeDefined();
    for (const r of runnable) {
      expect(r.repo, `line ${r.line}: ${r.imagePath} is not COPYed into ${r.stage.name}`).toBeDefined();
      expect(existsSync(posix.join(ROOT, r.repo!)), `line ${r.line}: ${r.repo} missing`).toBe(true);
    }
  });

  for (const r of runnable.filter((r) => r.repo && /\.(ts|mts|js|mjs)$/.test(r.repo))) {
    it(`${r.stage.name}: ${r.repo} and everything it loads are in the image`, () => {
      const repo = r.repo!;
      // Where the repository root lands in the image (e.g. /app/), so relative imports resolve.
      const base = r.imagePath.slice(0, r.imagePath.length - repo.length);
      const graph = moduleGraph(ROOT, repo);
      expect(graph.files.size).toBeGreaterThan(0);
      for (const file of graph.files) {
        expect(existsSync(posix.join(ROOT, file)), `${file} (loaded by ${repo}) missing`).toBe(true);
        expect(
          sourceOf(r.stage, `${base}${file}`, isDir),
          `${file} (loaded by ${repo}) is not copied to ${base}${file} in ${r.stage.name}`,
        ).toBe(file);
      }
      for (const name of graph.packages) {
        expect(pkg.dependencies[name], `${name} (imported by ${repo}) must be a dependency`).toBeDefined();
      }
    });
  }
});

describe('docker-compose.yml', () => {
  const compose = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');

  it('runs the bot against two inference replicas built from Dockerfile targets', () => {
    expect(compose).toMatch(/^ {2}inference-1:$/m);
    expect(compose).toMatch(/^ {2}inference-2:$/m);
    expect(compose).toMatch(/^ {2}bot:$/m);
    expect(compose).toMatch(/INFERENCE_ADDRESS: inference-1:50051,inference-2:50051$/m);
    const targets = [...compose.matchAll(/target: (?:\$\{\w+:-)?([\w-]+)\}?$/gm)].map((m) => m[1]);
    expect(targets).toEqual(expect.arrayContaining(['bot', 'inference']));
    for (const t of targets)
      expect(
        stages.some((s) => s.name === t),
        `target ${t}`,
      ).toBe(true);
  });
});
