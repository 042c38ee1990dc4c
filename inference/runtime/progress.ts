/** Progress of one request over a plan of stages: fraction = (earlier stages' steps + step) / all steps. */
import type { JobContext, RgbImage, Stage } from './api.js';

export class ProgressReporter {
  private readonly total: number;

  constructor(
    private readonly ctx: JobContext,
    private readonly plan: { stage: Stage; steps: number }[],
  ) {
    this.total = plan.reduce((n, p) => n + p.steps, 0);
  }

  report(stage: Stage, step: number, preview?: RgbImage): void {
    if (!this.ctx.onProgress) return;
    let before = 0;
    let stageSteps = 0;
    for (const p of this.plan) {
      if (p.stage === stage) {
        stageSteps = p.steps;
        break;
      }
      before += p.steps;
    }
    const fraction = this.total === 0 ? 1 : Math.min(1, (before + step) / this.total);
    this.ctx.onProgress({ fraction, stage, step, totalSteps: stageSteps, ...(preview ? { preview } : {}) });
  }
}
