/** Markdown rendering of a bench report (printed at the end of a run, pasted into BENCHMARKS.md). */
import type { BenchReport, SuiteResult } from './types.js';

const fmt = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'n/a';
  if (Array.isArray(v)) return v.map(fmt).join('; ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${fmt(x)}`)
      .join(', ');
  }
  return String(v);
};

export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(cols), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => fmt(r[c]))))].join(
    '\n',
  );
}

function suiteSection(s: SuiteResult): string {
  const out = [`### ${s.suite} (${s.seconds.toFixed(1)} s)`];
  if (s.skipped) return `${out[0]}\n\nskipped: ${s.skipped}\n`;
  for (const [key, value] of Object.entries(s.data)) {
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
      out.push(`\n**${key}**\n\n${table(value as Record<string, unknown>[])}`);
    } else {
      out.push(`- ${key}: ${fmt(value)}`);
    }
  }
  if (s.notes.length) out.push('', ...s.notes.map((n) => `> ${n}`));
  return `${out.join('\n')}\n`;
}

export function renderMarkdown(r: BenchReport): string {
  const floors = r.floors.map((f) => ({
    check: f.id,
    target: f.target,
    measured: `${f.measured} ${f.unit}`,
    result: f.pass ? 'pass' : 'MISS',
    note: f.note ?? '',
  }));
  return [
    `## Results${r.smoke ? ' (SMOKE size: not representative)' : ''}`,
    '',
    `- started: ${r.startedAt}`,
    `- command: \`${r.command}\``,
    `- model: ${r.model.name} (${r.model.dir}), preset ${r.model.preset ?? 'unknown'}${r.model.trained ? '' : ' (UNTRAINED placeholder)'}`,
    `- machine: ${fmt(r.machine)}`,
    '',
    '### Floors',
    '',
    table(floors),
    '',
    ...r.suites.map(suiteSection),
  ].join('\n');
}
