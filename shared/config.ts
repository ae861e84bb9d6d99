/**
 * The one place that reads the environment. Everything is validated up front so a bad
 * deployment fails on its first invocation with a message naming the variable, rather than
 * half-way through a batch of backups.
 */
import { ConfigError } from './errors';
import { INSTANCE_ID_PATTERN, REGION_PATTERN } from './request';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const HTTP_AUTH_MODES = ['signature', 'trigger'] as const;
export type HttpAuthMode = (typeof HTTP_AUTH_MODES)[number];

export interface StaticCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** Where the DDS API is reached when DDS_ENDPOINT overrides the region map. */
export interface EndpointOverride {
  host: string;
  protocol: 'http' | 'https';
}

export interface Config {
  logLevel: LogLevel;
  functionName: string | undefined;
  /** DDS_REGION, else FC_REGION: the region of targets that name none. */
  defaultRegion: string | undefined;
  endpoint: EndpointOverride | undefined;
  useVpcEndpoint: boolean;
  credentials: StaticCredentials | undefined;
  maxAttempts: number;
  maxConcurrency: number;
  dedupeWindowMinutes: number;
  /** Per-call cap on an API call's read time; the invocation deadline may cut it shorter. */
  apiTimeoutMs: number;
  /** Kept back from the invocation timeout so the answer is written before FC kills us. */
  deadlineMarginMs: number;
  /** Used when the context names no timeout (direct local calls). */
  defaultTimeoutMs: number;
  allowedInstanceIds: ReadonlySet<string> | undefined;
  /**
   * WEBHOOK_SECRET: the secret callers sign with, then any older ones still accepted while
   * callers switch over ("new,old" during a rotation).
   */
  webhookSecrets: readonly string[] | undefined;
  httpAuth: HttpAuthMode;
}

type Env = Readonly<Record<string, string | undefined>>;

export const WEBHOOK_SECRET_MIN_LENGTH = 16;

export function loadConfig(env: Env): Config {
  return {
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    functionName: optional(env, 'FC_FUNCTION_NAME'),
    defaultRegion: region(env, 'DDS_REGION') ?? region(env, 'FC_REGION'),
    endpoint: endpointOverride(env),
    useVpcEndpoint: flag(env, 'DDS_VPC_ENDPOINT'),
    credentials: staticCredentials(env),
    maxAttempts: integer(env, 'MAX_ATTEMPTS', 4, 1, 10),
    maxConcurrency: integer(env, 'MAX_CONCURRENCY', 4, 1, 64),
    dedupeWindowMinutes: integer(env, 'DEDUPE_WINDOW_MINUTES', 10, 0, 1440),
    apiTimeoutMs: integer(env, 'API_TIMEOUT_MS', 10_000, 100, 120_000),
    deadlineMarginMs: integer(env, 'DEADLINE_MARGIN_MS', 1_500, 0, 60_000),
    defaultTimeoutMs: integer(env, 'DEFAULT_TIMEOUT_SECONDS', 60, 1, 86_400) * 1000,
    allowedInstanceIds: allowList(env),
    webhookSecrets: webhookSecrets(env),
    httpAuth: oneOf(env, 'HTTP_AUTH', HTTP_AUTH_MODES, 'signature'),
  };
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = optional(env, name);
  if (value === undefined) return fallback;

  const choice = choices.find((candidate) => candidate === value.toLowerCase());
  if (choice === undefined) throw new ConfigError(name, `must be one of ${choices.join(', ')}`);
  return choice;
}

function flag(env: Env, name: string): boolean {
  const value = optional(env, name)?.toLowerCase();
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(name, 'must be true or false');
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;

  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return parsed;
}

function region(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && !REGION_PATTERN.test(value)) {
    throw new ConfigError(name, 'must be a region id such as cn-hangzhou');
  }
  return value;
}

/** `host[:port]` means https; a scheme may be given, and http is for the local emulator. */
function endpointOverride(env: Env): EndpointOverride | undefined {
  const value = optional(env, 'DDS_ENDPOINT');
  if (value === undefined) return undefined;

  const match = /^(?:(https?):\/\/)?([a-z0-9.-]+(?::\d{1,5})?)\/?$/i.exec(value);
  const host = match?.[2];
  if (!match || host === undefined) {
    throw new ConfigError('DDS_ENDPOINT', 'must be host[:port], https://host[:port] or http://…');
  }
  return { host, protocol: match[1]?.toLowerCase() === 'http' ? 'http' : 'https' };
}

function staticCredentials(env: Env): StaticCredentials | undefined {
  const accessKeyId = optional(env, 'ALIBABA_CLOUD_ACCESS_KEY_ID');
  const accessKeySecret = optional(env, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const securityToken = optional(env, 'ALIBABA_CLOUD_SECURITY_TOKEN');
  if (accessKeyId === undefined && accessKeySecret === undefined) return undefined;

  if (accessKeyId === undefined) {
    throw new ConfigError('ALIBABA_CLOUD_ACCESS_KEY_ID', 'is missing while its secret is set');
  }
  if (accessKeySecret === undefined) {
    throw new ConfigError('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'is missing while the key id is set');
  }
  return securityToken === undefined
    ? { accessKeyId, accessKeySecret }
    : { accessKeyId, accessKeySecret, securityToken };
}

function allowList(env: Env): ReadonlySet<string> | undefined {
  const value = optional(env, 'ALLOWED_INSTANCE_IDS');
  if (value === undefined) return undefined;

  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const invalid = ids.find((id) => !INSTANCE_ID_PATTERN.test(id));
  if (invalid !== undefined) {
    throw new ConfigError(
      'ALLOWED_INSTANCE_IDS',
      `holds "${invalid}", which is not an instance id`,
    );
  }
  return new Set(ids);
}

function webhookSecrets(env: Env): string[] | undefined {
  const value = optional(env, 'WEBHOOK_SECRET');
  if (value === undefined) return undefined;

  const secrets = value.split(',').map((secret) => secret.trim());
  if (secrets.some((secret) => secret.length < WEBHOOK_SECRET_MIN_LENGTH)) {
    throw new ConfigError(
      'WEBHOOK_SECRET',
      `must hold secrets of at least ${WEBHOOK_SECRET_MIN_LENGTH} characters, separated by commas`,
    );
  }
  return secrets;
}
