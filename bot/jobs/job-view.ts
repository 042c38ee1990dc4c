/** A job message as the job runner sees it: Discord-agnostic, so the runner is testable with a fake. */
export interface ButtonSpec {
  customId: string;
  label: string;
  style: 'primary' | 'secondary';
}

export interface JobPayload {
  content: string;
  /** Replaces every attachment of the message (previews are superseded by results). */
  files?: { name: string; data: Buffer }[];
  /** Rows of buttons (Discord: at most 5 rows of 5). */
  buttons?: ButtonSpec[][];
}

export interface JobView {
  update(payload: JobPayload): Promise<void>;
}
