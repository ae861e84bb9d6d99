// The HTTP side: reads a request, verifies it, applies faults, runs the action and writes the
// vendor-shaped answer. Requests under /__emulator/ are the unsigned control endpoint.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runAction } from './actions';
import { ApiError, ControlError } from './errors';
import type { FaultBook, FaultDecision } from './faults';
import { EmulatorInputError, parseFaults, parseSeeds } from './schema';
import { claimedAction, type RawRequest, type VerifyContext, verifyRequest } from './signature';
import type { DdsState } from './state';
import type { CreatedBackup, EmulatorCall, FaultSpec, InstanceSeed } from './types';

const CONTROL_PREFIX = '/__emulator/';
const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Everything a request handler reads or changes; index.ts owns it. */
export interface ServerContext {
  state: () => DdsState;
  faults: FaultBook;
  verify: VerifyContext;
  calls: EmulatorCall[];
  created: CreatedBackup[];
  now: () => number;
  reset: (instances?: InstanceSeed[]) => void;
  setFaults: (faults: FaultSpec[]) => void;
}

export function handleRequest(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  readBody(req)
    .then((body) => route(context, req, res, body))
    .catch((error: unknown) => {
      if (!res.headersSent) writeJson(res, 500, { Code: 'InternalError', Message: String(error) });
    });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body over 1 MiB'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function route(context: ServerContext, req: IncomingMessage, res: ServerResponse, body: Buffer) {
  const url = req.url ?? '/';
  const questionMark = url.indexOf('?');
  const path = questionMark === -1 ? url : url.slice(0, questionMark);
  const rawQuery = questionMark === -1 ? '' : url.slice(questionMark + 1);

  if (path.startsWith(CONTROL_PREFIX)) {
    control(context, req, res, { path, body });
    return;
  }

  const raw: RawRequest = {
    method: req.method ?? 'GET',
    path,
    rawQuery,
    headers: req.headers,
    body,
  };
  openApi(context, req, res, raw);
}

function openApi(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  raw: RawRequest,
) {
  const requestId = newRequestId();
  const host = req.headers.host ?? 'localhost';
  const record = (status: number, code: string | undefined, action: string, id?: string) => {
    const call: EmulatorCall = { action, status, at: context.now() };
    if (id !== undefined) call.DBInstanceId = id;
    if (code !== undefined) call.code = code;
    context.calls.push(call);
  };

  let verified: ReturnType<typeof verifyRequest>;
  try {
    verified = verifyRequest(raw, context.verify);
  } catch (error) {
    const apiError = asApiError(error);
    record(apiError.status, apiError.code, claimedAction(raw));
    writeApiError(res, apiError, requestId, host);
    return;
  }

  const { action, version, params } = verified;
  const answer = (status: number, code?: string) =>
    record(status, code, action, params.DBInstanceId);
  const perform = (): { status: number; body: Record<string, unknown> } => {
    try {
      const body = { RequestId: requestId, ...runAction(context.state(), action, version, params) };
      return { status: 200, body };
    } catch (error) {
      const apiError = asApiError(error);
      return { status: apiError.status, body: errorBody(apiError, requestId, host) };
    }
  };

  const fault = context.faults.decide(action);
  if (applyFault(fault, { req, res, requestId, host, answer, perform })) return;

  const result = perform();
  answer(result.status, typeof result.body.Code === 'string' ? result.body.Code : undefined);
  writeJson(res, result.status, result.body, requestId);
}

interface FaultScene {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  host: string;
  answer: (status: number, code?: string) => void;
  perform: () => unknown;
}

/** Answers (or drops) the request as the fault says; false when the request should go through. */
function applyFault(fault: FaultDecision, scene: FaultScene): boolean {
  if (fault === undefined) return false;
  const { res, requestId, host, answer } = scene;

  switch (fault.kind) {
    case 'rateLimited':
    case 'throttle': {
      const code = fault.kind === 'throttle' ? (fault.code ?? 'Throttling') : 'Throttling.User';
      const error = new ApiError(400, code, 'Request was denied due to flow control.');
      answer(error.status, error.code);
      writeApiError(res, error, requestId, host);
      return true;
    }
    case 'serverError': {
      const error =
        fault.status === 503
          ? new ApiError(
              503,
              'ServiceUnavailable',
              'The request has failed due to a temporary failure of the server.',
            )
          : new ApiError(
              500,
              'InternalError',
              'The request processing has failed due to some unknown error.',
            );
      answer(error.status, error.code);
      writeApiError(res, error, requestId, host);
      return true;
    }
    case 'html502':
      answer(502);
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
      );
      return true;
    case 'reset':
      if (fault.after === true) scene.perform();
      answer(0, 'Reset');
      scene.req.socket.destroy();
      return true;
    case 'hang':
      // Nothing is written: the socket stays open until the client gives up or close() runs.
      if (fault.after === true) scene.perform();
      answer(0, 'Hang');
      return true;
  }
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(
    500,
    'InternalError',
    'The request processing has failed due to some unknown error.',
  );
}

function errorBody(error: ApiError, requestId: string, host: string): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: host,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Dds&requestId=${requestId}`,
  };
}

function writeApiError(res: ServerResponse, error: ApiError, requestId: string, host: string) {
  writeJson(res, error.status, errorBody(error, requestId, host), requestId);
}

function writeJson(res: ServerResponse, status: number, body: unknown, requestId?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8' };
  if (requestId !== undefined) headers['x-acs-request-id'] = requestId;
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

/** Upper-case UUID, the shape of the vendor's RequestId. */
const newRequestId = (): string => randomUUID().toUpperCase();

interface ControlRequest {
  path: string;
  body: Buffer;
}

function control(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: ControlRequest,
) {
  try {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      throw new ControlError(403, 'The control endpoint answers loopback callers only.');
    }
    const result = controlAction(context, `${req.method ?? 'GET'} ${request.path}`, request.body);
    if (result === undefined) {
      res.writeHead(204).end();
    } else {
      writeJson(res, 200, result);
    }
  } catch (error) {
    const status = error instanceof ControlError ? error.status : 400;
    writeJson(res, status, { error: error instanceof Error ? error.message : String(error) });
  }
}

function controlAction(context: ServerContext, route: string, body: Buffer): unknown {
  switch (route) {
    case 'GET /__emulator/state':
      return stateSnapshot(context);
    case 'PUT /__emulator/faults':
      context.setFaults(parseFaults(parseJson(body)));
      return { faults: context.faults.list() };
    case 'DELETE /__emulator/faults':
      context.setFaults([]);
      return undefined;
    case 'POST /__emulator/reset':
      context.reset(body.length === 0 ? undefined : parseSeeds(parseJson(body)));
      return undefined;
    default:
      throw new ControlError(404, `No control route ${route}.`);
  }
}

function stateSnapshot(context: ServerContext): unknown {
  return {
    instances: [...context.state().instances.values()],
    created: context.created,
    calls: context.calls.length,
    faults: context.faults.list(),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new EmulatorInputError('The body is not JSON.', { cause: error });
  }
}
