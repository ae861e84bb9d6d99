// The HTTP side: reads a request, verifies it, applies faults, runs the action and writes the
// vendor-shaped answer. Requests under /__emulator/ are the unsigned control endpoint.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runAction } from './actions';
import { ApiError, ControlError, internalError, serviceUnavailable } from './errors';
import type { FaultBook, FaultDecision } from './faults';
import { EmulatorInputError, parseFaults, parseSeeds } from './schema';
import {
  claimedAction,
  type RawRequest,
  type VerifiedRequest,
  type VerifyContext,
  verifyRequest,
} from './signature';
import type { DdsState } from './state';
import type { CreatedBackup, EmulatorCall, FaultSpec, InstanceSeed } from './types';

const CONTROL_PREFIX = '/__emulator/';
const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** What a load balancer in front of the gateway answers when the gateway is unreachable. */
const BAD_GATEWAY_PAGE =
  '<html><head><title>502 Bad Gateway</title></head>' +
  '<body><center><h1>502 Bad Gateway</h1></center></body></html>';

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

/** Where an answer goes and what every answer carries. */
interface Reply {
  res: ServerResponse;
  requestId: string;
  host: string;
}

interface Outcome {
  status: number;
  code?: string;
  body: Record<string, unknown>;
}

function openApi(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  raw: RawRequest,
) {
  const reply: Reply = { res, requestId: newRequestId(), host: req.headers.host ?? 'localhost' };

  let verified: VerifiedRequest;
  try {
    verified = verifyRequest(raw, context.verify);
  } catch (error) {
    const apiError = asApiError(error);
    recordCall(context, {
      action: claimedAction(raw),
      status: apiError.status,
      code: apiError.code,
    });
    writeApiError(reply, apiError);
    return;
  }

  const { action, params } = verified;
  const record = (status: number, code?: string) =>
    recordCall(context, { action, status, code, DBInstanceId: params.DBInstanceId });
  const perform = () => performAction(context, verified, reply);

  // Faults come after verification: a badly signed request always gets its signature error.
  const fault = context.faults.decide(action);
  if (applyFault(fault, { req, reply, record, perform })) return;

  const outcome = perform();
  record(outcome.status, outcome.code);
  writeJson(res, outcome.status, outcome.body, reply.requestId);
}

interface CallRecord {
  action: string;
  status: number;
  code?: string | undefined;
  DBInstanceId?: string | undefined;
}

function recordCall(context: ServerContext, { action, status, code, DBInstanceId }: CallRecord) {
  const call: EmulatorCall = { action, status, at: context.now() };
  if (DBInstanceId !== undefined) call.DBInstanceId = DBInstanceId;
  if (code !== undefined) call.code = code;
  context.calls.push(call);
}

function performAction(context: ServerContext, request: VerifiedRequest, reply: Reply): Outcome {
  try {
    const result = runAction(context.state(), request.action, request.version, request.params);
    return { status: 200, body: { RequestId: reply.requestId, ...result } };
  } catch (error) {
    const apiError = asApiError(error);
    return { status: apiError.status, code: apiError.code, body: errorBody(apiError, reply) };
  }
}

interface FaultScene {
  req: IncomingMessage;
  reply: Reply;
  record: (status: number, code?: string) => void;
  perform: () => Outcome;
}

/** Answers (or drops) the request as the fault says; false when the request should go through. */
function applyFault(fault: FaultDecision, scene: FaultScene): boolean {
  if (fault === undefined) return false;
  const { reply, record } = scene;

  switch (fault.kind) {
    case 'rateLimited':
    case 'throttle': {
      const code = fault.kind === 'throttle' ? (fault.code ?? 'Throttling') : 'Throttling.User';
      const error = new ApiError(400, code, 'Request was denied due to flow control.');
      record(error.status, error.code);
      writeApiError(reply, error);
      return true;
    }
    case 'serverError': {
      const error = fault.status === 503 ? serviceUnavailable() : internalError();
      record(error.status, error.code);
      writeApiError(reply, error);
      return true;
    }
    case 'html502':
      record(502);
      reply.res.writeHead(502, { 'content-type': 'text/html' });
      reply.res.end(BAD_GATEWAY_PAGE);
      return true;
    case 'reset':
      if (fault.after === true) scene.perform();
      record(0, 'Reset');
      scene.req.socket.destroy();
      return true;
    case 'hang':
      // Nothing is written: the socket stays open until the client gives up or close() runs.
      if (fault.after === true) scene.perform();
      record(0, 'Hang');
      return true;
  }
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : internalError();
}

function errorBody(error: ApiError, { requestId, host }: Reply): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: host,
    Code: error.code,
    Message: error.message,
    Recommend: recommendUrl(error.code, requestId),
  };
}

const recommendUrl = (code: string, requestId: string): string =>
  `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}` +
  `&product=Dds&requestId=${requestId}`;

function writeApiError(reply: Reply, error: ApiError): void {
  writeJson(reply.res, error.status, errorBody(error, reply), reply.requestId);
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
