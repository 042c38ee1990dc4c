/**
 * custom_id format for buttons and modals: `ddt1:<action>:<id>[:<index>]`. The id is a job id (or,
 * for modals opened from a message context menu, the target message id); everything else the
 * handler needs lives in SQLite, so ids stay valid across restarts and far below Discord's 100 chars.
 */
export const CUSTOM_ID_ACTIONS = [
  'reroll', // run the job's parameters again with a new seed
  'retry', // run the same job again (after a failure)
  'edit', // button: open the edit modal for output <index>
  'edit-job', // modal: edit output <index> of job <id>
  'reveal',
  'vary',
  'blend', // use output <index> as a blend input
  'ask-msg', // modal: question about the image in message <id>
  'edit-msg', // modal: instruction for the image in message <id>
] as const;
export type CustomIdAction = (typeof CUSTOM_ID_ACTIONS)[number];

export interface CustomId {
  action: CustomIdAction;
  id: string;
  index?: number;
}

const PREFIX = 'ddt1';
const MAX_LENGTH = 100;

export function encodeCustomId({ action, id, index }: CustomId): string {
  if (!/^[0-9a-z]{1,40}$/.test(id)) throw new Error(`custom_id id must be short alphanumeric, got "${id}"`);
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index > 99))
    throw new Error(`custom_id index out of range: ${index}`);
  const value = [PREFIX, action, id, ...(index === undefined ? [] : [String(index)])].join(':');
  if (value.length > MAX_LENGTH) throw new Error(`custom_id too long (${value.length} > ${MAX_LENGTH})`);
  return value;
}

/** Undefined for ids that are not ours (another version, or garbage). */
export function decodeCustomId(value: string): CustomId | undefined {
  const parts = value.split(':');
  if (parts.length < 3 || parts.length > 4 || parts[0] !== PREFIX) return undefined;
  const [, action, id, index] = parts as [string, string, string, string | undefined];
  if (!(CUSTOM_ID_ACTIONS as readonly string[]).includes(action) || !/^[0-9a-z]{1,40}$/.test(id))
    return undefined;
  if (index === undefined) return { action: action as CustomIdAction, id };
  if (!/^\d{1,2}$/.test(index)) return undefined;
  return { action: action as CustomIdAction, id, index: Number(index) };
}
