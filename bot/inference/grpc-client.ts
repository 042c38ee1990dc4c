/**
 * InferenceClient over gRPC (ddt.v1.Inference, proto loaded at run time with @grpc/proto-loader).
 * Several servers: our own round-robin over one channel per address, skipping servers that fail
 * grpc.health.v1 checks or calls, and failing over to the next server when one is unreachable
 * before it sent anything (nothing ran there, so retrying elsewhere cannot duplicate work).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { AddressPool } from './address-pool.js';
import {
  type AskAnswer,
  type BlendRequest,
  type CallOptions,
  type ChatEvent,
  type ChatTurn,
  type DecodeRequest,
  type EditRequest,
  type GenerateRequest,
  type ImageData,
  type ImageJobEvent,
  type InferenceClient,
  InferenceError,
  type ModelInfo,
} from './client.js';
import {
  fromProtoChatEvent,
  fromProtoImageJobEvent,
  fromProtoModelInfo,
  type ProtoChatEvent,
  type ProtoImageJobEvent,
  toInferenceError,
  toProtoImage,
  toProtoSampling,
  toProtoTurns,
} from './grpc-mapping.js';

export interface GrpcInferenceOptions {
  addresses: string[];
  /** Sent as `authorization: Bearer <token>` on every call when set. */
  token?: string;
  tls?: boolean;
  /** PEM CA bundle to trust instead of the system roots (implies TLS). */
  tlsCaPath?: string;
  /** Both directions; gRPC's 4 MiB default is smaller than a Discord upload. */
  maxMessageBytes: number;
  unaryTimeoutMs: number;
  streamTimeoutMs: number;
  /** 0 disables periodic health checks (calls still mark servers down on UNAVAILABLE). */
  healthIntervalMs: number;
  protoPath?: string;
}

const DEFAULT_PROTO = fileURLToPath(new URL('../../proto/ddt/v1/inference.proto', import.meta.url));
const SERVICE_NAME = 'ddt.v1.Inference';
/**
 * After a server restart the channel reconnects on gRPC's exponential backoff (default up to 120 s),
 * failing every call meanwhile. Keep the backoff short, and let a call wait this long for the channel
 * to connect before it is sent (a server that is really down still fails within seconds).
 */
const CONNECT_WAIT_MS = 2000;
const RECONNECT_BACKOFF = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 1000 };

type UnaryFn = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => grpc.ClientUnaryCall;
type StreamFn = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

interface Endpoint {
  inference: grpc.Client;
  health: grpc.Client;
}

export class GrpcInferenceClient implements InferenceClient {
  readonly pool: AddressPool;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly healthTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: GrpcInferenceOptions) {
    this.pool = new AddressPool(options.addresses);
    const definition = protoLoader.loadSync(options.protoPath ?? DEFAULT_PROTO, {
      longs: String,
      enums: String,
      defaults: false,
      arrays: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      ddt: { v1: { Inference: grpc.ServiceClientConstructor } };
    };
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const credentials =
      options.tls || options.tlsCaPath
        ? grpc.credentials.createSsl(options.tlsCaPath ? readFileSync(options.tlsCaPath) : undefined)
        : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
      ...RECONNECT_BACKOFF,
    };
    for (const address of options.addresses) {
      const inference = new loaded.ddt.v1.Inference(address, credentials, channelOptions);
      const health = new Health(address, credentials, { channelOverride: inference.getChannel() });
      this.endpoints.set(address, { inference, health });
    }
    if (options.healthIntervalMs > 0) {
      this.healthTimer = setInterval(() => void this.checkHealth(), options.healthIntervalMs);
      this.healthTimer.unref(); // health polling alone must not keep the process alive
      void this.checkHealth();
    }
  }

  /** Checks every server once and updates the rotation. Resolves to address -> serving. */
  async checkHealth(): Promise<Map<string, boolean>> {
    const results = await Promise.all(
      this.options.addresses.map(async (address) => {
        const serving = await this.checkOne(address);
        this.pool.setHealthy(address, serving);
        return [address, serving] as const;
      }),
    );
    return new Map(results);
  }

  private async checkOne(address: string): Promise<boolean> {
    const endpoint = this.endpoints.get(address)!;
    const timeout = Math.min(5000, Math.max(500, this.options.healthIntervalMs || 5000));
    const ask = (service: string) =>
      new Promise<string>((resolve) => {
        const check = (endpoint.health as unknown as Record<string, UnaryFn>).check!.bind(endpoint.health);
        check({ service }, this.metadata(), { deadline: Date.now() + timeout }, (err, res) => {
          if (err) resolve(err.code === grpc.status.NOT_FOUND ? 'NOT_FOUND' : 'DOWN');
          else resolve(String((res as { status?: string }).status));
        });
      });
    // A server that only registers the overall status ("") is judged by that.
    let answer = await ask(SERVICE_NAME);
    if (answer === 'NOT_FOUND') answer = await ask('');
    return answer === 'SERVING';
  }

  getModelInfo(options?: CallOptions): Promise<ModelInfo> {
    return this.unary('GetModelInfo', {}, options).then((r) => fromProtoModelInfo(r as never));
  }

  caption(request: { image: ImageData }, options?: CallOptions): Promise<string> {
    return this.unary('Caption', { image: toProtoImage(request.image) }, options).then(
      (r) => (r as { text?: string }).text ?? '',
    );
  }

  ask(request: { image: ImageData; question: string }, options?: CallOptions): Promise<AskAnswer> {
    const body = { image: toProtoImage(request.image), question: request.question };
    return this.unary('Ask', body, options).then((r) => {
      const { answer, caption } = r as { answer?: string; caption?: string };
      return { answer: answer ?? '', ...(caption ? { caption } : {}) };
    });
  }

  encode(request: { image: ImageData }, options?: CallOptions): Promise<number[]> {
    return this.unary('Encode', { image: toProtoImage(request.image) }, options).then(
      (r) => (r as { tokens?: number[] }).tokens ?? [],
    );
  }

  generate(r: GenerateRequest, options?: CallOptions): AsyncIterable<ImageJobEvent> {
    const body = {
      prompt: r.prompt,
      numImages: r.count,
      previews: !!r.previews,
      reveal: !!r.reveal,
      ...toProtoSampling(r),
    };
    return this.stream('Generate', body, options, (e) => fromProtoImageJobEvent(e as ProtoImageJobEvent));
  }

  edit(r: EditRequest, options?: CallOptions): AsyncIterable<ImageJobEvent> {
    const body = {
      image: toProtoImage(r.image),
      instruction: r.instruction,
      numImages: r.count,
      previews: !!r.previews,
      ...toProtoSampling(r),
    };
    return this.stream('Edit', body, options, (e) => fromProtoImageJobEvent(e as ProtoImageJobEvent));
  }

  blend(r: BlendRequest, options?: CallOptions): AsyncIterable<ImageJobEvent> {
    const body = {
      imageA: toProtoImage(r.imageA),
      imageB: toProtoImage(r.imageB),
      amount: r.amount,
      previews: !!r.previews,
      ...toProtoSampling({ seed: r.seed }),
    };
    return this.stream('Blend', body, options, (e) => fromProtoImageJobEvent(e as ProtoImageJobEvent));
  }

  decode(r: DecodeRequest, options?: CallOptions): AsyncIterable<ImageJobEvent> {
    const body = {
      tokens: r.tokens,
      keep: r.keep ?? 0,
      reveal: !!r.reveal,
      ...toProtoSampling({ seed: r.seed, steps: r.steps }),
    };
    return this.stream('Decode', body, options, (e) => fromProtoImageJobEvent(e as ProtoImageJobEvent));
  }

  chat(
    r: { turns: ChatTurn[]; seed?: bigint; previews?: boolean },
    options?: CallOptions,
  ): AsyncIterable<ChatEvent> {
    const body = {
      turns: toProtoTurns(r.turns),
      previews: !!r.previews,
      ...toProtoSampling({ seed: r.seed }),
    };
    return this.stream('Chat', body, options, (e) => fromProtoChatEvent(e as ProtoChatEvent));
  }

  close(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    for (const { inference } of this.endpoints.values()) inference.close();
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.options.token) md.set('authorization', `Bearer ${this.options.token}`);
    return md;
  }

  private method<F>(address: string, name: string): F {
    const client = this.endpoints.get(address)!.inference as unknown as Record<string, F>;
    return (client[name] as unknown as { bind(t: unknown): F }).bind(client);
  }

  /** Resolves once the channel to `address` is connected, or after `maxWaitMs` (never rejects). */
  private awaitConnected(address: string, maxWaitMs: number): Promise<void> {
    const client = this.endpoints.get(address)!.inference;
    if (client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) {
      return Promise.resolve();
    }
    return new Promise((resolve) => client.waitForReady(Date.now() + maxWaitMs, () => resolve()));
  }

  /** Addresses to try, in order: each rotation pick not tried yet. */
  private *candidates(): Generator<string> {
    const tried = new Set<string>();
    for (let address = this.pool.next(); address !== undefined; address = this.pool.next(tried)) {
      tried.add(address);
      yield address;
    }
  }

  private async unary(name: string, request: unknown, options: CallOptions = {}): Promise<unknown> {
    let lastError: InferenceError | undefined;
    for (const address of this.candidates()) {
      const timeoutMs = options.timeoutMs ?? this.options.unaryTimeoutMs;
      await this.awaitConnected(address, Math.min(CONNECT_WAIT_MS, timeoutMs));
      if (options.signal?.aborted) throw new InferenceError('cancelled', 'cancelled');
      let onAbort = () => {};
      try {
        const result = await new Promise<unknown>((resolve, reject) => {
          const deadline = Date.now() + timeoutMs;
          const call = this.method<UnaryFn>(address, name)(
            request,
            this.metadata(),
            { deadline },
            (err, res) => (err ? reject(err) : resolve(res)),
          );
          onAbort = () => call.cancel();
          options.signal?.addEventListener('abort', onAbort, { once: true });
        });
        this.pool.setHealthy(address, true);
        return result;
      } catch (err) {
        lastError = options.signal?.aborted
          ? new InferenceError('cancelled', 'cancelled')
          : toInferenceError(err);
        if (lastError.kind !== 'unavailable') throw lastError;
        this.pool.setHealthy(address, false);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    }
    throw lastError ?? new InferenceError('unavailable', 'no inference server configured');
  }

  private async *stream<E>(
    name: string,
    request: unknown,
    options: CallOptions = {},
    convert: (message: unknown) => E | undefined,
  ): AsyncGenerator<E> {
    let lastError: InferenceError | undefined;
    for (const address of this.candidates()) {
      const timeoutMs = options.timeoutMs ?? this.options.streamTimeoutMs;
      await this.awaitConnected(address, Math.min(CONNECT_WAIT_MS, timeoutMs));
      if (options.signal?.aborted) throw new InferenceError('cancelled', 'cancelled');
      const deadline = Date.now() + timeoutMs;
      const call = this.method<StreamFn>(address, name)(request, this.metadata(), { deadline });
      const onAbort = () => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let received = false;
      try {
        for await (const message of call) {
          if (!received) this.pool.setHealthy(address, true);
          received = true;
          const event = convert(message);
          if (event !== undefined) yield event;
        }
        return;
      } catch (err) {
        lastError = options.signal?.aborted
          ? new InferenceError('cancelled', 'cancelled')
          : toInferenceError(err);
        if (lastError.kind !== 'unavailable' || received) throw lastError;
        this.pool.setHealthy(address, false);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        call.cancel(); // no-op when the stream ended; stops the server when the consumer broke off early
      }
    }
    throw lastError ?? new InferenceError('unavailable', 'no inference server configured');
  }
}
