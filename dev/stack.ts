/**
 * What the local stack needs from s.yaml: each function's name, handler, memory, timeout,
 * literal environment variables and triggers. Serverless Devs resolves `${env('X')}` and
 * `${vars.x}` at deploy time; here they stay unresolved, so a value holding one is treated as
 * not given rather than guessed.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TemplateError } from './errors';

export interface TimerSpec {
  triggerName: string;
  /** The trigger's message, handed to the function verbatim as the event's payload. */
  payload: string;
}

export interface FunctionSpec {
  /** The key under resources: in s.yaml. */
  resource: string;
  functionName: string;
  /** `index.handler`: file, then the exported name. */
  handler: string;
  memorySize: number | undefined;
  timeout: number | undefined;
  /** Only the values s.yaml gives literally; placeholders are left out. */
  environment: Record<string, string>;
  timers: TimerSpec[];
  hasHttpTrigger: boolean;
  /** asyncInvokeConfig.maxAsyncRetryAttempts, when given literally. */
  maxAsyncRetryAttempts: number | undefined;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isPlaceholder = (value: string): boolean => value.includes('${');

export function readTemplate(path: string): FunctionSpec[] {
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TemplateError(`${path} could not be read as YAML: ${String(error)}`, {
      cause: error,
    });
  }

  const resources = isObject(document) ? document.resources : undefined;
  if (!isObject(resources)) throw new TemplateError(`${path} has no resources`);

  const functions = Object.entries(resources).flatMap(([resource, body]) =>
    isObject(body) && isObject(body.props) ? [functionSpec(resource, body.props)] : [],
  );
  if (functions.length === 0) throw new TemplateError(`${path} defines no function`);
  return functions;
}

function functionSpec(resource: string, props: Fields): FunctionSpec {
  const functionName = literalString(props.functionName) ?? resource;
  const triggers = Array.isArray(props.triggers) ? props.triggers.filter(isObject) : [];
  const asyncConfig = isObject(props.asyncInvokeConfig) ? props.asyncInvokeConfig : {};

  return {
    resource,
    functionName,
    handler: literalString(props.handler) ?? 'index.handler',
    memorySize: literalNumber(props.memorySize),
    timeout: literalNumber(props.timeout),
    environment: literalEnvironment(props.environmentVariables),
    timers: triggers.flatMap((trigger) => timerSpec(trigger)),
    hasHttpTrigger: triggers.some((trigger) => trigger.triggerType === 'http'),
    maxAsyncRetryAttempts: literalNumber(asyncConfig.maxAsyncRetryAttempts),
  };
}

function timerSpec(trigger: Fields): TimerSpec[] {
  if (trigger.triggerType !== 'timer') return [];

  const config = isObject(trigger.triggerConfig) ? trigger.triggerConfig : {};
  const payload = typeof config.payload === 'string' ? config.payload : '';
  const triggerName = literalString(trigger.triggerName) ?? 'timer';
  return [{ triggerName, payload }];
}

function literalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !isPlaceholder(value) ? value : undefined;
}

function literalNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const text = literalString(value);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function literalEnvironment(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};

  const environment: Record<string, string> = {};
  for (const [name, setting] of Object.entries(value)) {
    const text = typeof setting === 'number' ? String(setting) : literalString(setting);
    if (text !== undefined) environment[name] = text;
  }
  return environment;
}

/** The function an HTTP request reaches: the one with an HTTP trigger, else the first. */
export function httpFunctionOf(functions: readonly FunctionSpec[]): FunctionSpec | undefined {
  return functions.find((spec) => spec.hasHttpTrigger) ?? functions[0];
}
