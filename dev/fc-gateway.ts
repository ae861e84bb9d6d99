/**
 * A local Function Compute gateway: loads the built bundle the way the nodejs20 runtime does
 * and serves it two ways, as an HTTP trigger (any path) and through the FC invoke API
 * (POST /2016-08-15/services/<service>[.<qualifier>]/functions/<name>/invocations, signed like
 * @alicloud/fc2 signs it). Each invocation gets a context shaped like FC's.
 *
 * Known shortcomings, each costing fidelity rather than safety:
 * - Every function of s.yaml runs in this one process, from the one bundle, sharing
 *   process.env; FC gives each function its own instances and environment. Separate gateways
 *   per function would lift this.
 * - A timed-out invocation is answered as FC answers it, but its promise keeps running: a
 *   worker thread per invocation would be needed to stop it.
 * - FC 3.0 has no services; any service name (and qualifier) reaches the function.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ACCOUNTS, type EmulatorAccount } from '../emulator/index';
import { BundleMissingError, TemplateError } from './errors';
import { verifyFcRequest } from './fc-signature';
import { httpReply, httpTriggerEvent } from './http-event';
import { DEFAULT_BUNDLE, DEFAULT_TEMPLATE, LOCAL } from './local';
import { type FunctionSpec, httpFunctionOf, readTemplate } from './stack';

export const API_VERSION = '2016-08-15';
export const MAX_SYNC_PAYLOAD_BYTES = 32 * 1024 * 1024;
export const MAX_ASYNC_PAYLOAD_BYTES = 128 * 1024;
/** FC's default when asyncInvokeConfig names no retry count. */
export const DEFAULT_ASYNC_RETRIES = 3;
/** Used when s.yaml gives no literal value; ours, not FC's. */
const FALLBACK_TIMEOUT_SECONDS = 60;
const FALLBACK_MEMORY_MB = 128;

/** The context FC 3.0 hands a function, without the logger and tracing parts. */
export interface LocalFcContext {
  requestId: string;
  region: string;
  accountId: string;
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
}

export type FcHandler = (event: Buffer, context: LocalFcContext) => unknown;

export interface InvocationRecord {
  functionName: string;
  event: Buffer;
  context: LocalFcContext;
  async: boolean;
}

export interface InvocationFailure {
  errorMessage: string;
  errorType: string;
}

export type InvokeOutcome = { ok: true; result: unknown } | { ok: false; error: InvocationFailure };

export interface FcGatewayOptions {
  /** 0 takes any free port; LOCAL.gatewayPort unless given. */
  port?: number;
  /** Absolute path of the built bundle; dist/create-backup/index.js unless given. */
  bundlePath?: string;
  /** The functions to serve; read from s.yaml (templatePath) unless given. */
  functions?: FunctionSpec[];
  templatePath?: string;
  region?: string;
  accountId?: string;
  /** Keys the invoke API accepts; the emulator's accounts unless given. */
  accounts?: EmulatorAccount[];
  /** The role's keys in context.credentials: the emulator's STS role unless given; null: none. */
  roleCredentials?: Required<EmulatorAccount> | null;
  /** Set on process.env before the bundle loads, as FC sets a function's variables. */
  environment?: Record<string, string>;
  /** The wait before the n-th retry of a failed async invocation is n times this. */
  asyncRetryDelayMs?: number;
  /** Called with every invocation's event and context, for tests and tracing. */
  onInvocation?: (record: InvocationRecord) => void;
  /** Where the gateway's own human lines go. */
  say?: (line: string) => void;
}

export interface FcGateway {
  url: string;
  port: number;
  functions: readonly FunctionSpec[];
  /** Runs one function in process, as an event source such as a timer would. */
  invoke(functionName: string, event: Buffer): Promise<InvokeOutcome>;
  /** Resolves once every async invocation accepted so far has finished, retries included. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startFcGateway(options: FcGatewayOptions = {}): Promise<FcGateway> {
  const functions = options.functions ?? readTemplate(options.templatePath ?? DEFAULT_TEMPLATE);
  Object.assign(process.env, options.environment);
  const runtime = new Runtime(functions, loadBundle(options.bundlePath ?? DEFAULT_BUNDLE), options);

  const server = createServer((request, response) => {
    runtime.serve(request, response).catch((error: unknown) => {
      runtime.say(`gateway failure: ${String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { ErrorCode: 'InternalServerError' });
    });
  });
  const port = await listen(server, options.port ?? LOCAL.gatewayPort);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    functions,
    invoke: (name, event) => runtime.invokeByName(name, event),
    idle: () => runtime.idle(),
    close: async () => {
      await runtime.idle();
      await close(server);
    },
  };
}

/** Requires the bundle as FC does: CommonJS, from an absolute path, its exports as they are. */
export function loadBundle(bundlePath: string): Record<string, unknown> {
  if (!existsSync(bundlePath)) {
    throw new BundleMissingError(`${bundlePath} does not exist: run \`npm run build\` first`);
  }
  return createRequire(bundlePath)(bundlePath) as Record<string, unknown>;
}

class Runtime {
  private readonly pending = new Set<Promise<void>>();
  readonly say: (line: string) => void;

  constructor(
    private readonly functions: readonly FunctionSpec[],
    private readonly bundle: Record<string, unknown>,
    private readonly options: FcGatewayOptions,
  ) {
    this.say = options.say ?? ((line) => process.stderr.write(`▸ ${line}\n`));
    for (const spec of functions) this.handlerOf(spec);
  }

  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    response.setHeader('x-fc-request-id', requestId);
    const path = new URL(request.url ?? '/', 'http://local').pathname;

    if (path.startsWith(`/${API_VERSION}/`)) return this.serveInvokeApi(request, response);
    return this.serveHttpTrigger(request, response, requestId);
  }

  private async serveHttpTrigger(
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ): Promise<void> {
    const spec = httpFunctionOf(this.functions);
    const body = await readBody(request, MAX_SYNC_PAYLOAD_BYTES);
    if (spec === undefined) throw new TemplateError('no function to serve');
    if (body === undefined) return tooLarge(response, MAX_SYNC_PAYLOAD_BYTES);

    const source = { accountId: this.accountId, requestId, now: Date.now() };
    const event = Buffer.from(JSON.stringify(httpTriggerEvent(request, body, source)));
    const outcome = await this.invoke(spec, event, requestId, false);

    if (!outcome.ok) {
      const headers = { 'x-fc-error-type': 'UnhandledInvocationError' };
      return sendJson(response, 502, outcome.error, headers);
    }
    const reply = httpReply(outcome.result);
    response.writeHead(reply.statusCode, reply.headers).end(reply.body);
  }

  private async serveInvokeApi(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = safeDecode(new URL(request.url ?? '/', 'http://local').pathname);
    const route = INVOCATIONS_PATH.exec(path);
    if (request.method !== 'POST' || route?.[1] === undefined) {
      const route = `/${API_VERSION}/services/<service>/functions/<name>/invocations`;
      const message = `this gateway serves only POST ${route}`;
      return sendJson(response, 404, { ErrorCode: 'NotFound', ErrorMessage: message });
    }

    const body = await readBody(request, MAX_SYNC_PAYLOAD_BYTES);
    if (body === undefined) return tooLarge(response, MAX_SYNC_PAYLOAD_BYTES);
    const verdict = verifyFcRequest(
      { method: 'POST', path, headers: flatHeaders(request), body },
      this.options.accounts ?? DEFAULT_ACCOUNTS,
    );
    if (!verdict.ok) {
      return sendJson(response, verdict.status, {
        ErrorCode: verdict.code,
        ErrorMessage: verdict.message,
      });
    }

    return this.answerInvocation(request, response, route[1], body);
  }

  private async answerInvocation(
    request: IncomingMessage,
    response: ServerResponse,
    functionName: string,
    body: Buffer,
  ): Promise<void> {
    const spec = this.functions.find((candidate) => candidate.functionName === functionName);
    if (spec === undefined) {
      const message = `function ${functionName} is not in s.yaml`;
      return sendJson(response, 404, { ErrorCode: 'FunctionNotFound', ErrorMessage: message });
    }

    const type = String(request.headers['x-fc-invocation-type'] ?? 'Sync').toLowerCase();
    const requestId = String(response.getHeader('x-fc-request-id'));
    if (type === 'async') {
      if (body.length > MAX_ASYNC_PAYLOAD_BYTES) return tooLarge(response, MAX_ASYNC_PAYLOAD_BYTES);
      this.runInBackground(spec, body, requestId);
      response.writeHead(202).end();
      return;
    }
    if (type !== 'sync') {
      const message = 'x-fc-invocation-type must be Sync or Async';
      return sendJson(response, 400, { ErrorCode: 'InvalidArgument', ErrorMessage: message });
    }

    const outcome = await this.invoke(spec, body, requestId, false);
    if (!outcome.ok) {
      return sendJson(response, 200, outcome.error, {
        'x-fc-error-type': 'UnhandledInvocationError',
      });
    }
    const reply = invocationReply(outcome.result);
    response.writeHead(200, reply.headers).end(reply.body);
  }

  invokeByName(functionName: string, event: Buffer): Promise<InvokeOutcome> {
    const spec = this.functions.find((candidate) => candidate.functionName === functionName);
    if (spec === undefined) throw new TemplateError(`function ${functionName} is not in s.yaml`);
    return this.invoke(spec, event, randomUUID(), false);
  }

  /** FC retries a failed async invocation, waiting longer each time, then gives up. */
  private runInBackground(spec: FunctionSpec, event: Buffer, requestId: string): void {
    const retries = spec.maxAsyncRetryAttempts ?? DEFAULT_ASYNC_RETRIES;
    const delayMs = this.options.asyncRetryDelayMs ?? 1000;

    const run = async () => {
      for (let attempt = 0; attempt <= retries; attempt += 1) {
        if (attempt > 0) await sleep(delayMs * attempt);
        const outcome = await this.invoke(spec, event, requestId, true);
        if (outcome.ok) return;

        const next = attempt < retries ? 'FC would retry' : 'no retries left';
        this.say(`async ${requestId} failed: ${outcome.error.errorMessage} (${next})`);
      }
    };
    const running = run().finally(() => this.pending.delete(running));
    this.pending.add(running);
  }

  private async invoke(
    spec: FunctionSpec,
    event: Buffer,
    requestId: string,
    async: boolean,
  ): Promise<InvokeOutcome> {
    const context = this.contextFor(spec, requestId);
    this.options.onInvocation?.({ functionName: spec.functionName, event, context, async });

    try {
      const handler = this.handlerOf(spec);
      const result = await withTimeout(
        Promise.resolve().then(() => handler(event, context)),
        context.function.timeout,
      );
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error: failureOf(error) };
    }
  }

  private contextFor(spec: FunctionSpec, requestId: string): LocalFcContext {
    const role =
      this.options.roleCredentials === undefined
        ? (DEFAULT_ACCOUNTS[0] as Required<EmulatorAccount>)
        : this.options.roleCredentials;
    const context: LocalFcContext = {
      requestId,
      region: this.options.region ?? LOCAL.region,
      accountId: this.accountId,
      function: {
        name: spec.functionName,
        handler: spec.handler,
        memory: spec.memorySize ?? FALLBACK_MEMORY_MB,
        timeout: spec.timeout ?? FALLBACK_TIMEOUT_SECONDS,
      },
    };
    if (role !== null) {
      const { accessKeyId, accessKeySecret, securityToken } = role;
      context.credentials = { accessKeyId, accessKeySecret, securityToken };
    }
    return context;
  }

  private handlerOf(spec: FunctionSpec): FcHandler {
    const exportName = spec.handler.split('.').at(-1) ?? 'handler';
    const handler = this.bundle[exportName];
    if (typeof handler !== 'function') {
      const wanted = `handler ${spec.handler} of ${spec.functionName}`;
      throw new BundleMissingError(`the bundle exports no function "${exportName}" (${wanted})`);
    }
    return handler as FcHandler;
  }

  private get accountId(): string {
    return this.options.accountId ?? LOCAL.accountId;
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

const INVOCATIONS_PATH = new RegExp(
  `^/${API_VERSION}/services/[^/]+/functions/([^/]+)/invocations$`,
);

/** The function's result as the invoke API returns it: an object as JSON, bytes as they are. */
function invocationReply(result: unknown): { headers: Record<string, string>; body: Buffer } {
  if (Buffer.isBuffer(result)) {
    return { headers: { 'content-type': 'application/octet-stream' }, body: result };
  }
  if (typeof result === 'string') {
    return { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(result) };
  }
  const json = result === undefined ? '' : JSON.stringify(result);
  return { headers: { 'content-type': 'application/json' }, body: Buffer.from(json) };
}

function failureOf(error: unknown): InvocationFailure {
  if (error instanceof Error) return { errorMessage: error.message, errorType: error.name };
  return { errorMessage: String(error), errorType: 'Error' };
}

class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

function withTimeout<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FunctionTimeoutError(`Function timed out after ${seconds} seconds`)),
      seconds * 1000,
    );
    timer.unref();
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/** The body, or undefined once it passes `limit` bytes: the rest is not read. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function tooLarge(response: ServerResponse, limit: number): void {
  const message = `the body is larger than ${limit} bytes`;
  response.setHeader('connection', 'close');
  sendJson(response, 413, { ErrorCode: 'PayloadTooLarge', ErrorMessage: message });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
