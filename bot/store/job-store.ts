/**
 * Persistent job parameters and results (better-sqlite3), so buttons whose custom_id holds only a
 * job id keep working after a restart; plus per-guild settings and pending blend picks.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ImageData } from '../inference/client.js';
import { defaultGuildSettings, type GuildSettings, parseStoredSettings } from '../settings/guild-settings.js';

/** What is needed to run a job again (Re-roll, Retry). Seeds are decimal strings: u64 does not fit JSON numbers. */
export type JobParams =
  // temperature: image-token sampling temperature; steps: decoder steps (unset = the model's defaults; Re-roll
  // sets both)
  | { kind: 'imagine'; prompt: string; count: number; seed?: string; temperature?: number; steps?: number }
  | { kind: 'edit'; instruction: string; count: number; seed?: string; temperature?: number; steps?: number } // inputs[0] = source
  | { kind: 'blend'; amount: number; seed?: string } // inputs[0] = A, inputs[1] = B
  | { kind: 'reveal'; tokens?: number[] } // tokens, or inputs[0] to encode first
  | { kind: 'variation'; tokens: number[]; keep: number; seed?: string; steps?: number }
  | { kind: 'chat' }; // an image the model answered with in chat: outputs only

export type JobKind = JobParams['kind'];

export interface StoredOutput {
  image: ImageData; // at model resolution, as the server sent it
  seed: string;
  tokens: number[];
}

export interface JobRecord {
  id: string;
  userId: string;
  guildId: string | null;
  channelId: string;
  messageId: string | null;
  params: JobParams;
  status: 'pending' | 'done' | 'failed';
  createdAt: number;
  inputs: ImageData[];
  outputs: StoredOutput[];
}

export interface NewJob {
  userId: string;
  guildId: string | null;
  channelId: string;
  params: JobParams;
  inputs?: ImageData[];
}

/** 12 base-36 characters: short enough for custom_ids, ~62 bits so guessing another job is impractical. */
export function newJobId(): string {
  const n = randomBytes(8).readBigUInt64BE() & ((1n << 62n) - 1n);
  return n.toString(36).padStart(12, '0');
}

interface JobRow {
  id: string;
  user_id: string;
  guild_id: string | null;
  channel_id: string;
  message_id: string | null;
  params: string;
  status: JobRecord['status'];
  created_at: number;
}
interface ImageRow {
  role: 'input' | 'output';
  idx: number;
  data: Buffer;
  mime: string | null;
  seed: string | null;
  tokens: string | null;
}

export class JobStore {
  private readonly db: Database.Database;
  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private readonly statements = new Map<string, Database.Statement>();
  /**
   * Parsed settings per guild, so the check every command makes before acknowledging costs no query.
   * Only this store writes them, and with sharding a guild's interactions all reach the same shard.
   */
  private readonly settingsCache = new Map<string, GuildSettings>();

  constructor(
    path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL, guild_id TEXT, channel_id TEXT NOT NULL,
        message_id TEXT, params TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
      CREATE TABLE IF NOT EXISTS job_images (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, role TEXT NOT NULL, idx INTEGER NOT NULL,
        data BLOB NOT NULL, mime TEXT, seed TEXT, tokens TEXT, PRIMARY KEY (job_id, role, idx));
      CREATE TABLE IF NOT EXISTS guild_settings (guild_id TEXT PRIMARY KEY, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS blend_picks (
        user_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, idx INTEGER NOT NULL, created_at INTEGER NOT NULL);
    `);
  }

  createJob(job: NewJob): JobRecord {
    const id = newJobId();
    const createdAt = this.now();
    this.db.transaction(() => {
      this.stmt(
        'INSERT INTO jobs (id, user_id, guild_id, channel_id, message_id, params, status, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)',
      ).run(id, job.userId, job.guildId, job.channelId, JSON.stringify(job.params), 'pending', createdAt);
      (job.inputs ?? []).forEach((img, i) => {
        this.insertImage(id, 'input', i, img, null, null);
      });
    })();
    return this.getJob(id)!;
  }

  getJob(id: string): JobRecord | undefined {
    const row = this.stmt('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) return undefined;
    const images = this.stmt(
      'SELECT role, idx, data, mime, seed, tokens FROM job_images WHERE job_id = ? ORDER BY idx',
    ).all(id) as ImageRow[];
    const toImage = (r: ImageRow): ImageData => ({
      data: new Uint8Array(r.data),
      mimeType: r.mime ?? undefined,
    });
    return {
      id: row.id,
      userId: row.user_id,
      guildId: row.guild_id,
      channelId: row.channel_id,
      messageId: row.message_id,
      params: JSON.parse(row.params) as JobParams,
      status: row.status,
      createdAt: row.created_at,
      inputs: images.filter((r) => r.role === 'input').map(toImage),
      outputs: images
        .filter((r) => r.role === 'output')
        .map((r) => ({
          image: toImage(r),
          seed: r.seed ?? '0',
          tokens: JSON.parse(r.tokens ?? '[]') as number[],
        })),
    };
  }

  setMessage(jobId: string, channelId: string, messageId: string): void {
    this.stmt('UPDATE jobs SET channel_id = ?, message_id = ? WHERE id = ?').run(channelId, messageId, jobId);
  }

  /** Stores the results and marks the job done (replacing outputs of an earlier run). */
  completeJob(jobId: string, outputs: StoredOutput[]): void {
    this.db.transaction(() => {
      this.stmt("DELETE FROM job_images WHERE job_id = ? AND role = 'output'").run(jobId);
      outputs.forEach((o, i) => {
        this.insertImage(jobId, 'output', i, o.image, o.seed, JSON.stringify(o.tokens));
      });
      this.stmt("UPDATE jobs SET status = 'done' WHERE id = ?").run(jobId);
    })();
  }

  failJob(jobId: string): void {
    this.stmt("UPDATE jobs SET status = 'failed' WHERE id = ?").run(jobId);
  }

  getGuildSettings(guildId: string | null): GuildSettings {
    if (!guildId) return defaultGuildSettings();
    let settings = this.settingsCache.get(guildId);
    if (!settings) {
      const row = this.stmt('SELECT json FROM guild_settings WHERE guild_id = ?').get(guildId) as
        | { json: string }
        | undefined;
      settings = parseStoredSettings(row?.json);
      this.settingsCache.set(guildId, settings);
    }
    return structuredClone(settings);
  }

  saveGuildSettings(guildId: string, settings: GuildSettings): void {
    this.stmt(
      'INSERT INTO guild_settings (guild_id, json) VALUES (?, ?) ON CONFLICT(guild_id) DO UPDATE SET json = excluded.json',
    ).run(guildId, JSON.stringify(settings));
    this.settingsCache.delete(guildId);
  }

  /** Remembers "use this image as blend input" until the user picks a second image. */
  setBlendPick(userId: string, jobId: string, index: number): void {
    this.stmt(
      'INSERT INTO blend_picks (user_id, job_id, idx, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET job_id = excluded.job_id, idx = excluded.idx, created_at = excluded.created_at',
    ).run(userId, jobId, index, this.now());
  }

  /** Returns and clears the user's pending pick. */
  takeBlendPick(userId: string): { jobId: string; index: number } | undefined {
    const row = this.stmt('SELECT job_id, idx FROM blend_picks WHERE user_id = ?').get(userId) as
      | { job_id: string; idx: number }
      | undefined;
    if (!row) return undefined;
    this.stmt('DELETE FROM blend_picks WHERE user_id = ?').run(userId);
    return { jobId: row.job_id, index: row.idx };
  }

  /** Deletes jobs (and their images) created before `cutoff` epoch ms. Returns how many. */
  pruneJobsBefore(cutoff: number): number {
    return this.stmt('DELETE FROM jobs WHERE created_at < ?').run(cutoff).changes;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private insertImage(
    jobId: string,
    role: 'input' | 'output',
    idx: number,
    image: ImageData,
    seed: string | null,
    tokens: string | null,
  ): void {
    this.stmt(
      'INSERT INTO job_images (job_id, role, idx, data, mime, seed, tokens) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(jobId, role, idx, Buffer.from(image.data), image.mimeType ?? null, seed, tokens);
  }
}
