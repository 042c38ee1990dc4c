/**
 * The one table from error kinds to gRPC status codes. Handlers throw InputError (validation) and the
 * runtime throws RuntimeError; both carry a kind, and their message is meant for the caller. Anything
 * else is a bug: the caller sees a generic line with the request id and the log keeps the detail.
 *
 * Policy for oversized input: an image over MAX_IMAGE_BYTES or MAX_IMAGE_PIXELS is RESOURCE_EXHAUSTED,
 * the same code gRPC itself gives a message over the receive limit, so "too big" reads the same at
 * every layer. Malformed or unsupported input, and an over-long prompt, is INVALID_ARGUMENT.
 */
import * as grpc from '@grpc/grpc-js';
import { RuntimeError } from '../runtime/api.js';

export type ErrorKind = RuntimeError['kind'] | 'unauthenticated' | 'unimplemented' | 'failed_precondition';

export const STATUS_BY_KIND: Readonly<Record<ErrorKind, grpc.status>> = Object.freeze({
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
  not_found: grpc.status.NOT_FOUND,
  unavailable: grpc.status.UNAVAILABLE,
  cancelled: grpc.status.CANCELLED,
  deadline_exceeded: grpc.status.DEADLINE_EXCEEDED,
  internal: grpc.status.INTERNAL,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  unimplemented: grpc.status.UNIMPLEMENTED,
  failed_precondition: grpc.status.FAILED_PRECONDITION,
});

/** A request the server refuses before (or instead of) calling the runtime. Message is user-facing. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string) => new InputError('invalid_argument', message);

function kindOf(err: unknown): ErrorKind | undefined {
  if (err instanceof InputError || err instanceof RuntimeError) return err.kind;
  if (err instanceof Error) {
    // Runtime errors cross worker boundaries and module copies; trust a known `kind` string too.
    const kind = (err as { kind?: unknown }).kind;
    if (typeof kind === 'string' && kind in STATUS_BY_KIND) return kind as ErrorKind;
    if (err.name === 'AbortError') return 'cancelled';
  }
  return undefined;
}

export interface MappedError {
  code: grpc.status;
  details: string;
  /** false for bugs: the log should carry the stack. */
  expected: boolean;
}

/** Maps any thrown value to the status and message the client receives. */
export function mapError(err: unknown, requestId: string): MappedError {
  const kind = kindOf(err);
  if (kind && kind !== 'internal') {
    return { code: STATUS_BY_KIND[kind], details: (err as Error).message, expected: true };
  }
  return { code: grpc.status.INTERNAL, details: `internal error (request id ${requestId})`, expected: false };
}

/** The status name used in logs and metric labels ("INVALID_ARGUMENT"). */
export function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}
