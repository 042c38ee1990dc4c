/**
 * A small typed client for ddt.v1.Inference (plus grpc.health.v1), built on @grpc/proto-loader.
 * Unary RPCs return promises; streaming RPCs return async iterables of events. Every call accepts an
 * AbortSignal, a timeout and a request id (sent as x-request-id so server logs can be correlated).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { loadServiceDefinition } from '../protocol/load.js';
import type * as pb from '../protocol/types.js';

type In<T> = pb.RequestInput<T>;

export interface InferenceClientOptions {
  /** host:port, or any gRPC target (dns:///name:port for several servers behind round robin). */
  address: string;
  /** Shared secret, sent as `authorization: Bearer <token>`. */
  token?: string;
  /** undefined = plaintext; otherwise TLS trusting caPath (or the system roots). */
  tls?: { caPath?: string };
  /** Largest request/response accepted, bytes (default 128 MiB both ways; the server enforces its own). */
  maxMessageBytes?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  requestId?: string;
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface InferenceClient {
  getModelInfo(options?: CallOptions): Promise<pb.GetModelInfoResponse>;
  caption(req: In<pb.CaptionRequest>, options?: CallOptions): Promise<pb.CaptionResponse>;
  ask(req: In<pb.AskRequest>, options?: CallOptions): Promise<pb.AskResponse>;
  encode(req: In<pb.EncodeRequest>, options?: CallOptions): Promise<pb.EncodeResponse>;
  generate(req: In<pb.GenerateRequest>, options?: CallOptions): AsyncIterable<pb.ImageJobEvent>;
  edit(req: In<pb.EditRequest>, options?: CallOptions): AsyncIterable<pb.ImageJobEvent>;
  blend(req: In<pb.BlendRequest>, options?: CallOptions): AsyncIterable<pb.ImageJobEvent>;
  decode(req: In<pb.DecodeRequest>, options?: CallOptions): AsyncIterable<pb.ImageJobEvent>;
  chat(req: In<pb.ChatRequest>, options?: CallOptions): AsyncIterable<pb.ChatEvent>;
  /** grpc.health.v1 Check; '' = the whole server, 'ddt.v1.Inference' = the inference service. */
  checkHealth(service?: string, options?: CallOptions): Promise<ServingStatus>;
  /** Waits until the channel is connected (or the timeout passes). */
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
}

const MiB = 1024 * 1024;

function createChannelCredentials(options: InferenceClientOptions): grpc.ChannelCredentials {
  if (!options.tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(options.tls.caPath ? readFileSync(options.tls.caPath) : null);
}

type Method = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb?: grpc.requestCallback<unknown>,
) => grpc.ClientUnaryCall | grpc.ClientReadableStream<unknown>;

export function createInferenceClient(options: InferenceClientOptions): InferenceClient {
  const maxBytes = options.maxMessageBytes ?? 128 * MiB;
  const channelOptions: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  };
  const credentials = createChannelCredentials(options);
  const Inference = grpc.makeClientConstructor(loadServiceDefinition(), 'Inference');
  const client = new Inference(options.address, credentials, channelOptions);
  const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const health = new Health(options.address, credentials, channelOptions);

  const prepare = (call: CallOptions | undefined): [grpc.Metadata, grpc.CallOptions] => {
    const md = new grpc.Metadata();
    if (options.token) md.set('authorization', `Bearer ${options.token}`);
    if (call?.requestId) md.set('x-request-id', call.requestId);
    return [md, call?.timeoutMs ? { deadline: Date.now() + call.timeoutMs } : {}];
  };

  const unary = <Res>(target: grpc.Client, name: string, req: unknown, call?: CallOptions): Promise<Res> =>
    new Promise((resolve, reject) => {
      const [md, opts] = prepare(call);
      const method = (target as unknown as Record<string, Method>)[name]!.bind(target);
      const handle = method(req, md, opts, (err, res) => (err ? reject(err) : resolve(res as Res)));
      call?.signal?.addEventListener('abort', () => handle.cancel(), { once: true });
    });

  const stream = <Event>(name: string, req: unknown, call?: CallOptions): AsyncIterable<Event> => ({
    [Symbol.asyncIterator]() {
      const [md, opts] = prepare(call);
      const method = (client as unknown as Record<string, Method>)[name]!.bind(client);
      const handle = method(req, md, opts) as grpc.ClientReadableStream<Event>;
      call?.signal?.addEventListener('abort', () => handle.cancel(), { once: true });
      return handle[Symbol.asyncIterator]() as AsyncIterator<Event>;
    },
  });

  return {
    getModelInfo: (o) => unary(client, 'GetModelInfo', {}, o),
    caption: (r, o) => unary(client, 'Caption', r, o),
    ask: (r, o) => unary(client, 'Ask', r, o),
    encode: (r, o) => unary(client, 'Encode', r, o),
    generate: (r, o) => stream('Generate', r, o),
    edit: (r, o) => stream('Edit', r, o),
    blend: (r, o) => stream('Blend', r, o),
    decode: (r, o) => stream('Decode', r, o),
    chat: (r, o) => stream('Chat', r, o),
    checkHealth: async (service = '', o) => {
      const res = await unary<{ status: ServingStatus }>(health, 'Check', { service }, o);
      return res.status;
    },
    waitForReady: (timeoutMs) =>
      new Promise((resolve, reject) =>
        client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
      ),
    close: () => {
      client.close();
      health.close();
    },
  };
}

/**
 * Drains an image job stream: calls `onEvent` for queued/progress events and returns the result.
 * Throws the gRPC error if the call fails, or an Error if the stream ends without a result.
 *
 * The result is the stream's last event; it returns at once and reads the end of the stream in the
 * background. (Leaving a `for await` at the result would cancel the call that is just finishing: an
 * AbortError on the client, RST_STREAM and a cancellation on the server, for nothing.)
 */
export async function collectImageResult(
  events: AsyncIterable<pb.ImageJobEvent>,
  onEvent?: (event: pb.ImageJobEvent) => void,
): Promise<pb.ImageResult> {
  const it = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const event = next.value;
      onEvent?.(event);
      if (event.event === 'result') {
        void drainRest(it);
        return event.result;
      }
    }
  } catch (err) {
    // As `for await` does: a throwing onEvent cancels the call. (A failed call is already over.)
    await it.return?.().catch(() => {});
    throw err;
  }
  throw new Error('the stream ended without a result');
}

/** Reads a stream to its end, ignoring what comes (the caller has what it wanted). */
async function drainRest(it: AsyncIterator<unknown>): Promise<void> {
  try {
    while (!(await it.next()).done) {
      // nothing after the result is used
    }
  } catch {
    // the call's status after its result does not change the result
  }
}
