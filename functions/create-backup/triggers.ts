/**
 * Recognises what fired the function and finds the backup request inside it. Each shape is
 * told apart by fields only that shape carries; anything else is a direct invocation whose
 * event is the request itself.
 */
import { RequestError } from '../../shared/errors';
import { parseUntrustedJson } from '../../shared/json';
import type { BackupTarget } from '../../shared/request';

export const TRIGGERS = [
  'timer',
  'http',
  'eventbridge',
  'mns-queue',
  'mns-topic',
  'direct',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** A request as found in the event, before validation. `source` says where, for error messages. */
export interface RequestInput {
  source: string;
  body: unknown;
  /** A target the event names by itself: the instance ARN in a CloudEvent's subject. */
  implied?: BackupTarget;
}

/** The parts of an FC 3.0 (v1) HTTP trigger event the function uses. */
export interface HttpEvent {
  version: 'v1';
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

export type Recognised =
  | { trigger: 'http'; event: HttpEvent }
  | { trigger: Exclude<Trigger, 'http'>; inputs: RequestInput[] };

type Fields = Record<string, unknown>;

/** FC hands the event over as a Buffer; local runners and tests may pass a string or object. */
export function decodeEvent(event: unknown): unknown {
  if (Buffer.isBuffer(event)) return decodeText(event.toString('utf8'));
  if (typeof event === 'string') return decodeText(event);
  return event;
}

function decodeText(text: string): unknown {
  return text.trim() === '' ? {} : parseUntrustedJson(text, 'event');
}

export function recognise(event: unknown): Recognised {
  if (Array.isArray(event)) return cloudEvents(event);
  if (!isObject(event)) throw new RequestError('event: must be a JSON object');

  if (event.version === 'v1' && isObject(event.requestContext)) {
    return { trigger: 'http', event: event as unknown as HttpEvent };
  }
  if (typeof event.triggerTime === 'string' && 'payload' in event) {
    const body = settle(() => jsonString(event.payload, 'payload'));
    return { trigger: 'timer', inputs: [{ source: 'payload', body }] };
  }
  if (typeof event.specversion === 'string') return cloudEvents([event]);
  if (typeof event.TopicOwner === 'string' && 'Message' in event) {
    const body = settle(() => jsonString(event.Message, 'Message'));
    return { trigger: 'mns-topic', inputs: [{ source: 'Message', body }] };
  }
  return { trigger: 'direct', inputs: [{ source: 'event', body: event }] };
}

/** EventBridge delivers one CloudEvent, or an array of them from queue sources such as MNS. */
function cloudEvents(events: unknown[]): Recognised {
  if (!events.some((item) => isObject(item) && typeof item.specversion === 'string')) {
    throw new RequestError('event: a list must hold CloudEvents');
  }

  let trigger: 'eventbridge' | 'mns-queue' = 'eventbridge';
  const inputs = events.map((item, index): RequestInput => {
    const at = events.length > 1 ? `events[${index}]` : 'event';
    if (!isObject(item) || typeof item.specversion !== 'string') {
      return { source: at, body: new RequestError(`${at}: is not a CloudEvent`) };
    }

    const fromQueue = item.type === 'mns:Queue:SendMessage';
    if (fromQueue) trigger = 'mns-queue';
    const body = fromQueue ? queueMessage(item.data, at) : dataOf(item.data, at);
    const implied = targetFromArn(item.subject);
    return implied === undefined ? { source: at, body } : { source: at, body, implied };
  });
  return { trigger, inputs };
}

function queueMessage(data: unknown, at: string): unknown {
  if (!isObject(data)) return new RequestError(`${at}.data: must hold messageBody`);
  return settle(() => jsonString(data.messageBody, `${at}.data.messageBody`));
}

function dataOf(data: unknown, at: string): unknown {
  if (typeof data === 'string') return settle(() => jsonString(data, `${at}.data`));
  return data ?? {};
}

/** acs:dds:<region>:<account>:dbinstance/<id> names the instance to back up. */
const INSTANCE_ARN =
  /^acs:dds:([a-z]{2,8}(?:-[a-z0-9]{1,16}){1,3}):\d*:dbinstance\/((?:dds|d)-[a-z0-9]{6,40})$/;

function targetFromArn(subject: unknown): BackupTarget | undefined {
  if (typeof subject !== 'string') return undefined;
  const match = INSTANCE_ARN.exec(subject);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { DBInstanceId: match[2], RegionId: match[1] };
}

function jsonString(value: unknown, what: string): unknown {
  if (typeof value !== 'string') throw new RequestError(`${what}: must be a string holding JSON`);
  return value.trim() === '' ? {} : parseUntrustedJson(value, what);
}

/**
 * A request that cannot be read is kept as its error in place of its body: the trigger is
 * still known for the answer, and one bad message in a batch does not stop the others.
 */
function settle(read: () => unknown): unknown {
  try {
    return read();
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
}

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
