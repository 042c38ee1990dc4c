/**
 * Loads the ddt.v1 contract with @grpc/proto-loader. Server and client share these options, so the
 * object shapes in ./types.ts hold on both sides: snake_case field names, u64 as decimal strings (a
 * seed does not fit a JS number), enums as their names, defaults filled in, `event`/`content` naming the
 * set member of each oneof.
 */
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
export const PROTO_FILE = 'ddt/v1/inference.proto';
export const SERVICE_NAME = 'ddt.v1.Inference';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: protoLoader.PackageDefinition | undefined;

/** The package definition (parsed once per process). */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
  return cached;
}

/** The service definition for grpc.Server#addService and for building clients. */
export function loadServiceDefinition(): grpc.ServiceDefinition {
  const def = loadPackageDefinition()[SERVICE_NAME];
  if (!def || !('Generate' in def)) throw new Error(`${SERVICE_NAME} missing from ${PROTO_FILE}`);
  return def as unknown as grpc.ServiceDefinition;
}
