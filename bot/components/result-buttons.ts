/** Buttons under a finished job. Which ones fit depends on the job kind. Pure. */
import type { ButtonSpec } from '../jobs/job-view.js';
import type { JobKind } from '../store/job-store.js';
import { encodeCustomId } from './custom-id.js';

const RERUNNABLE: readonly JobKind[] = ['imagine', 'edit', 'blend', 'variation'];

function perImage(jobId: string, index: number, suffix: string): ButtonSpec[] {
  return [
    {
      customId: encodeCustomId({ action: 'edit', id: jobId, index }),
      label: `Edit${suffix}`,
      style: 'secondary',
    },
    {
      customId: encodeCustomId({ action: 'reveal', id: jobId, index }),
      label: `Reveal${suffix}`,
      style: 'secondary',
    },
    {
      customId: encodeCustomId({ action: 'vary', id: jobId, index }),
      label: `Variations${suffix}`,
      style: 'secondary',
    },
    {
      customId: encodeCustomId({ action: 'blend', id: jobId, index }),
      label: `Use as blend input${suffix}`,
      style: 'secondary',
    },
  ];
}

/** One image: a single row. Several (at most 4): Re-roll row + one row per image = at most 5 rows. */
export function buildResultButtons(jobId: string, kind: JobKind, imageCount: number): ButtonSpec[][] {
  const reroll: ButtonSpec[] = RERUNNABLE.includes(kind)
    ? [{ customId: encodeCustomId({ action: 'reroll', id: jobId }), label: 'Re-roll', style: 'primary' }]
    : [];
  // A reveal already shows the decoding; offering Reveal again on it would repeat the same animation.
  const filter = (row: ButtonSpec[]) =>
    kind === 'reveal' ? row.filter((b) => !b.label.startsWith('Reveal')) : row;
  if (imageCount <= 1) return [[...reroll, ...filter(perImage(jobId, 0, ''))]];
  const rows = Array.from({ length: Math.min(imageCount, 4) }, (_, i) =>
    filter(perImage(jobId, i, ` ${i + 1}`)),
  );
  return reroll.length ? [reroll, ...rows] : rows;
}

export function buildRetryButton(jobId: string): ButtonSpec[][] {
  return [
    [{ customId: encodeCustomId({ action: 'retry', id: jobId }), label: 'Try again', style: 'primary' }],
  ];
}
