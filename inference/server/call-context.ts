/**
 * The error boundary around every Inference RPC: request id, auth, cancellation (AbortSignal from the
 * call's `cancelled` event, which also fires when the client's deadline passes), deadline, logs,
 * metrics, and the mapping of thrown errors to one gRPC status. Handlers only map request -> runtime
 * call -> response.
 *
 * The response headers (x-request-id) go out with the first message or the status, not on arrival: a
 * separate HEADERS frame would be one more socket write and one more wake-up of the client while the
 * model runs, for a header no client needs before the first event.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ServerConfig } from '../config.js';
import { checkBearerToken } from './auth.js';
import { InputError, mapError, statusName } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ModelMap } from './models.js';

export interface ServerDeps {
  config: Readonly<ServerConfig>;
  log: Logger;
  metrics: Metrics;
  /** The loaded models, or undefined while loading (requests then get UNAVAILABLE). */
  models(): ModelMap | undefined;
  /** In-flight calls, aborted on forced shutdown. */
  inFlight: Set<AbortController>;
}

export interface CallContext {
  rpc: string;
  requestId: string;
  log: Logger;
  signal: AbortSignal;
  /** Epoch ms, when the client set a deadline. */
  deadline?: number;
  models: ModelMap;
  /** Call when the runtime starts the job; records queue wait once. */
  markStarted(): void;
  /** Counts what the job produced, for the tokens/s and images/s metrics. */
  recordOutput(model: string, output: { imageTokens?: number; textTokens?: number; images?: number }): void;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The client's x-request-id when it is sane (lets the bot correlate logs), else a fresh UUID. */
function pickRequestId(metadata: grpc.Metadata): string {
  const given = metadata.get('x-request-id')[0];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function readDeadline(call: { getDeadline(): grpc.Deadline }): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** Sends the response headers (x-request-id) once; call it before the first message or the status. */
function headerSender(call: AnyCall, requestId: string): () => void {
  let sent = false;
  return () => {
    if (sent) return;
    sent = true;
    const header = new grpc.Metadata();
    header.set('x-request-id', requestId);
    call.sendMetadata(header);
  };
}

/** Runs `body` with a CallContext; returns the status it ended with (for the caller to deliver). */
async function runCall<T>(
  rpc: string,
  deps: ServerDeps,
  call: AnyCall,
  requestId: string,
  body: (ctx: CallContext) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: grpc.StatusObject }> {
  const log = deps.log.child({ request_id: requestId, rpc });
  const controller = new AbortController();
  const onCancelled = () => controller.abort(new InputError('cancelled', 'the client cancelled the call'));
  call.on('cancelled', onCancelled);
  deps.inFlight.add(controller);
  deps.metrics.inFlight.inc({ rpc });
  const started = performance.now();
  let runStarted: number | undefined;
  let code = grpc.status.OK;
  try {
    checkBearerToken(call.metadata, deps.config.token);
    const models = deps.models();
    if (!models) throw new InputError('unavailable', 'models are still loading; retry shortly');
    const ctx: CallContext = {
      rpc,
      requestId,
      log,
      signal: controller.signal,
      deadline: readDeadline(call),
      models,
      markStarted() {
        if (runStarted !== undefined) return;
        runStarted = performance.now();
        deps.metrics.queueWait.observe({ rpc }, (runStarted - started) / 1000);
      },
      recordOutput(model, { imageTokens = 0, textTokens = 0, images = 0 }) {
        const m = deps.metrics;
        if (imageTokens) m.tokens.inc({ model, kind: 'image' }, imageTokens);
        if (textTokens) m.tokens.inc({ model, kind: 'text' }, textTokens);
        if (images) m.images.inc({ model }, images);
        const seconds = (performance.now() - (runStarted ?? started)) / 1000;
        if (imageTokens + textTokens > 0 && seconds > 0) {
          m.tokensPerSecond.observe({ model }, (imageTokens + textTokens) / seconds);
        }
      },
    };
    const value = await body(ctx);
    return { ok: true, value };
  } catch (err) {
    const mapped =
      controller.signal.aborted && !(err instanceof InputError)
        ? mapError(controller.signal.reason, requestId)
        : mapError(err, requestId);
    code = mapped.code;
    if (!mapped.expected) log.error('request failed', { error: err });
    return {
      ok: false,
      error: { code: mapped.code, details: mapped.details, metadata: new grpc.Metadata() },
    };
  } finally {
    call.off('cancelled', onCancelled);
    deps.inFlight.delete(controller);
    deps.metrics.inFlight.dec({ rpc });
    const seconds = (performance.now() - started) / 1000;
    const codeName = statusName(code);
    deps.metrics.rpcDuration.observe({ rpc, code: codeName }, seconds);
    if (code !== grpc.status.OK) deps.metrics.rpcErrors.inc({ rpc, code: codeName });
    log.info('request done', { code: codeName, ms: Math.round(seconds * 1000), peer: call.getPeer() });
  }
}

export function wrapUnary<Req, Res>(
  rpc: string,
  deps: ServerDeps,
  handler: (req: Req, ctx: CallContext) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const requestId = pickRequestId(call.metadata);
    const sendHeader = headerSender(call as AnyCall, requestId);
    void runCall(rpc, deps, call as AnyCall, requestId, (ctx) => handler(call.request, ctx)).then(
      (outcome) => {
        sendHeader();
        if (outcome.ok) callback(null, outcome.value);
        else callback(outcome.error);
      },
    );
  };
}

/** `send` writes one event unless the call is gone; the handler resolves after its final event. */
export function wrapServerStream<Req, Event>(
  rpc: string,
  deps: ServerDeps,
  handler: (req: Req, ctx: CallContext, send: (event: Event) => void) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Event> {
  return (call) => {
    const requestId = pickRequestId(call.metadata);
    const sendHeader = headerSender(call as AnyCall, requestId);
    const send = (event: Event) => {
      if (call.cancelled || call.writableEnded) return;
      sendHeader();
      call.write(event);
    };
    void runCall(rpc, deps, call as AnyCall, requestId, (ctx) => handler(call.request, ctx, send)).then(
      (outcome) => {
        if (call.cancelled) return;
        sendHeader();
        if (outcome.ok) call.end();
        else call.emit('error', outcome.error);
      },
    );
  };
}
