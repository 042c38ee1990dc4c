/** Optional shared-secret auth: `authorization: Bearer <token>` metadata, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { InputError } from './errors.js';

// Hashing first gives equal-length buffers, so timingSafeEqual leaks neither content nor length.
const digest = (s: string) => createHash('sha256').update(s).digest();

/** Throws UNAUTHENTICATED unless the metadata carries the expected bearer token (no-op when none is configured). */
export function checkBearerToken(metadata: grpc.Metadata, expected: string | undefined): void {
  if (expected === undefined) return;
  const header = metadata.get('authorization')[0];
  const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!match?.[1])
    throw new InputError('unauthenticated', 'missing "authorization: Bearer <token>" metadata');
  if (!timingSafeEqual(digest(match[1]), digest(expected)))
    throw new InputError('unauthenticated', 'invalid token');
}
