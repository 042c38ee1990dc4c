/** How much work each suite does: the full size for BENCHMARKS.md, and a seconds-long smoke size for CI. */
export interface Sizes {
  pipeline: { repeats: number; warmup: number; batches: number[]; extraSteps?: number[] };
  serving: { repeats: number; warmup: number };
  stages: { repeats: number; peakSide: number };
  memory: { requests: number; concurrency: number; samples: number };
  concurrency: { levels: number[]; generateSeconds: number; captionSeconds: number; compareSeconds: number };
  responsiveness: { clients: number; seconds: number; healthIntervalMs: number };
  bot: { users: number; jobsPerUser: number; timeoutMs: number };
}

export const FULL: Sizes = {
  pipeline: { repeats: 9, warmup: 1, batches: [1, 4], extraSteps: [10] },
  serving: { repeats: 120, warmup: 3 },
  stages: { repeats: 15, peakSide: 1024 },
  memory: { requests: 1000, concurrency: 4, samples: 10 },
  concurrency: { levels: [1, 2, 4, 8, 16], generateSeconds: 6, captionSeconds: 4, compareSeconds: 4 },
  responsiveness: { clients: 16, seconds: 6, healthIntervalMs: 20 },
  bot: { users: 50, jobsPerUser: 4, timeoutMs: 180_000 },
};

export const SMOKE: Sizes = {
  pipeline: { repeats: 1, warmup: 0, batches: [1] },
  serving: { repeats: 2, warmup: 1 },
  stages: { repeats: 2, peakSide: 256 },
  memory: { requests: 16, concurrency: 4, samples: 2 },
  concurrency: { levels: [1, 2], generateSeconds: 0.4, captionSeconds: 0.3, compareSeconds: 0.3 },
  responsiveness: { clients: 4, seconds: 0.6, healthIntervalMs: 20 },
  bot: { users: 3, jobsPerUser: 2, timeoutMs: 30_000 },
};
