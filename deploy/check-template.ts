/**
 * Checks s.yaml for what `s deploy` would only find out in the cloud, or never: six-field
 * crons, timer payloads our own request schema accepts, handlers that the built bundle
 * exports, secrets written as literals, the 4 KB limit on environment variables, trigger names,
 * and the HTTP trigger sharing a function. Every check returns problems as sentences naming
 * the place, so a failed deploy says what to fix.
 *
 *   npx tsx deploy/check-template.ts [s.yaml]   (after npm run build; the pre-deploy action)
 *
 * ${env('NAME')} and ${env('NAME', 'default')} resolve from the environment of this process,
 * ${vars.name} from the vars block, like `s` does; run it with the deploy variables exported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { parseBackupRequest } from '../shared/request';

/** FC's limit on all user environment variables of one function together. */
export const ENV_LIMIT_BYTES = 4096;
export const HTTP_AUTH_TYPES = ['anonymous', 'function', 'jwt'] as const;
export const TRIGGER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const SECRET_KEY = /SECRET|TOKEN|KEY|PASSWORD/i;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];

type Env = Readonly<Record<string, string | undefined>>;
type Json = Record<string, unknown>;

export interface CheckOptions {
  env: Env;
  /** The folder s.yaml sits in: code paths resolve from here. */
  root: string;
  /** Report variables the template reads that are unset (a real deploy needs them all). */
  requireEnv?: boolean;
}

export function checkTemplate(text: string, options: CheckOptions): string[] {
  const raw = parse(text) as Json | null;
  if (!isObject(raw)) return ['s.yaml: is not a YAML mapping'];

  const problems: string[] = [];
  const context = new Resolver(options.env);
  context.vars = context.resolveTree(raw.vars ?? {}) as Json;
  if (raw.edition !== '3.0.0') problems.push('edition: must be 3.0.0 for s v3 and fc3');

  const resources = isObject(raw.resources) ? raw.resources : {};
  if (Object.keys(resources).length === 0) problems.push('resources: names no function');

  for (const [name, resource] of Object.entries(resources)) {
    const at = `resources.${name}`;
    if (!isObject(resource) || resource.component !== 'fc3') {
      problems.push(`${at}.component: must be fc3`);
      continue;
    }
    const rawProps = isObject(resource.props) ? resource.props : {};
    const props = context.resolveTree(rawProps) as Json;
    problems.push(...checkFunction(`${at}.props`, rawProps, props, options.root));
  }

  problems.push(...context.problems);
  if (options.requireEnv) {
    problems.push(...[...context.missing].map((variable) => `${variable}: is not set`));
  }
  return problems;
}

/** `raw` is the function as written (to see ${env(…)} references), `props` as resolved. */
export function checkFunction(at: string, raw: Json, props: Json, root: string): string[] {
  const problems: string[] = [];
  if (props.runtime !== 'nodejs20') problems.push(`${at}.runtime: must be nodejs20`);
  problems.push(...checkHandler(at, props, root));
  problems.push(...checkSizes(at, props));
  problems.push(...checkEnvironment(at, raw.environmentVariables, props.environmentVariables));
  problems.push(...checkLogConfig(at, props.logConfig));
  problems.push(...checkTriggers(`${at}.triggers`, props.triggers));
  return problems;
}

function checkHandler(at: string, props: Json, root: string): string[] {
  const { code, handler } = props;
  if (typeof code !== 'string' || typeof handler !== 'string') {
    return [`${at}: code and handler must both be set`];
  }

  const folder = resolve(root, code);
  if (!existsSync(folder)) return [`${at}.code: ${code} does not exist (run npm run build)`];

  const match = /^([\w./-]+)\.([A-Za-z_$][\w$]*)$/.exec(handler);
  const file = match?.[1];
  const name = match?.[2];
  if (file === undefined || name === undefined) {
    return [`${at}.handler: "${handler}" is not <file>.<export>`];
  }

  const path = join(folder, `${file}.js`);
  if (!existsSync(path)) return [`${at}.handler: ${code}/${file}.js does not exist`];

  const exported = (createRequire(import.meta.url)(path) as Json)[name];
  return typeof exported === 'function'
    ? []
    : [`${at}.handler: ${code}/${file}.js exports no function named ${name}`];
}

function checkSizes(at: string, props: Json): string[] {
  const problems: string[] = [];
  const { memorySize, timeout } = props;
  if (!isWhole(memorySize) || memorySize < 128 || memorySize > 32_768 || memorySize % 64 !== 0) {
    problems.push(`${at}.memorySize: must be 128 to 32768 MB in steps of 64`);
  }
  if (!isWhole(timeout) || timeout < 1 || timeout > 86_400) {
    problems.push(`${at}.timeout: must be 1 to 86400 seconds`);
  }

  const async = props.asyncInvokeConfig;
  if (isObject(async) && async.maxAsyncRetryAttempts !== undefined) {
    const attempts = async.maxAsyncRetryAttempts;
    if (!isWhole(attempts) || attempts < 0 || attempts > 8) {
      problems.push(`${at}.asyncInvokeConfig.maxAsyncRetryAttempts: must be 0 to 8`);
    }
  }
  return problems;
}

/**
 * A secret may only arrive from the deployer's environment, so the value as written must be
 * a bare ${env('NAME')} (a default would be a literal secret) or empty.
 */
export function checkEnvironment(at: string, raw: unknown, resolved: unknown): string[] {
  if (raw === undefined) return [];
  if (!isObject(raw) || !isObject(resolved)) return [`${at}.environmentVariables: not a mapping`];

  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const where = `${at}.environmentVariables.${key}`;
    if (key.startsWith('FC_')) problems.push(`${where}: the FC_ prefix is reserved by FC`);
    if (typeof value !== 'string') problems.push(`${where}: must be a string (quote it)`);

    const isReference = /^\$\{env\(\s*(['"])\w+\1\s*\)\}$/.test(String(value));
    if (SECRET_KEY.test(key) && value !== '' && !isReference) {
      problems.push(`${where}: holds a secret, so it must be \${env('NAME')} with no default`);
    }
  }

  const bytes = environmentBytes(resolved);
  if (bytes > ENV_LIMIT_BYTES) {
    problems.push(`${at}.environmentVariables: ${bytes} bytes, over FC's ${ENV_LIMIT_BYTES}`);
  }
  return problems;
}

/**
 * Measured as the JSON object FC stores, which is a little more than keys plus values: how FC
 * counts is not documented, so this errs on the safe side.
 */
export function environmentBytes(variables: Json): number {
  return Buffer.byteLength(JSON.stringify(variables), 'utf8');
}

function checkLogConfig(at: string, logConfig: unknown): string[] {
  if (logConfig === undefined || logConfig === 'auto') return [];
  if (!isObject(logConfig)) return [`${at}.logConfig: must be a mapping or auto`];

  // DefaultRegex starts an entry only at a line opening with a date; our lines open with "{".
  return logConfig.logBeginRule === 'None'
    ? []
    : [`${at}.logConfig.logBeginRule: must be None so each JSON line stays one log entry`];
}

export function checkTriggers(at: string, triggers: unknown): string[] {
  if (triggers === undefined) return [];
  if (!Array.isArray(triggers)) return [`${at}: must be a list`];

  const problems: string[] = [];
  const names = new Set<string>();
  triggers.forEach((trigger: unknown, index) => {
    const where = `${at}[${index}]`;
    if (!isObject(trigger)) {
      problems.push(`${where}: must be a mapping`);
      return;
    }
    const name = String(trigger.triggerName);
    if (!TRIGGER_NAME.test(name)) {
      problems.push(
        `${where}.triggerName: "${name}" must be 1-128 letters, digits, _ or -, ` +
          'starting with a letter or _',
      );
    }
    if (names.has(name)) problems.push(`${where}.triggerName: "${name}" is used twice`);
    names.add(name);
    problems.push(...checkTrigger(where, trigger, triggers.length));
  });
  return problems;
}

function checkTrigger(where: string, trigger: Json, siblings: number): string[] {
  const config = isObject(trigger.triggerConfig) ? trigger.triggerConfig : {};
  if (trigger.triggerType === 'timer') return checkTimer(`${where}.triggerConfig`, config);
  if (trigger.triggerType !== 'http') return [];

  const problems = checkHttp(`${where}.triggerConfig`, config);
  if (siblings > 1) {
    // FC 2.0 refused any other trigger beside an HTTP one; FC 3.0 does not say it lifted that.
    problems.push(`${where}: an HTTP trigger must be alone on its function`);
  }
  return problems;
}

function checkTimer(where: string, config: Json): string[] {
  const problems: string[] = [];
  const cron = checkCron(String(config.cronExpression ?? ''));
  if (cron !== undefined) problems.push(`${where}.cronExpression: ${cron}`);

  const payload = checkPayload(config.payload);
  if (payload !== undefined) problems.push(`${where}.payload: ${payload}`);
  return problems;
}

function checkHttp(where: string, config: Json): string[] {
  const problems: string[] = [];
  const authType = String(config.authType);
  if (!(HTTP_AUTH_TYPES as readonly string[]).includes(authType)) {
    problems.push(`${where}.authType: "${authType}" must be one of ${HTTP_AUTH_TYPES.join(', ')}`);
  }

  const methods = config.methods;
  const valid = Array.isArray(methods) && methods.length > 0;
  if (!valid || methods.some((method) => !HTTP_METHODS.includes(String(method)))) {
    problems.push(`${where}.methods: must list some of ${HTTP_METHODS.join(', ')}`);
  }
  return problems;
}

/** The payload is handed to the function verbatim: it must be a request the function takes. */
export function checkPayload(payload: unknown): string | undefined {
  if (typeof payload !== 'string') return 'must be a JSON string';

  let request: unknown;
  try {
    request = JSON.parse(payload);
  } catch {
    return 'is not JSON';
  }

  try {
    parseBackupRequest(request);
    return undefined;
  } catch (error) {
    return `the function would refuse it: ${(error as Error).message}`;
  }
}

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` stands for "no particular value" in day-of-month and day-of-week only. */
  question?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: DAYS, question: true },
];

/**
 * FC's timer syntax: six fields (seconds first) with * , - / and ?, names for months and
 * days, an optional `CRON_TZ=<zone> ` prefix, or `@every <Go duration>`.
 */
export function checkCron(expression: string): string | undefined {
  let rest = expression.trim();
  const zone = /^CRON_TZ=(\S+)\s+/.exec(rest);
  if (zone?.[1] !== undefined) {
    if (!isTimeZone(zone[1])) return `CRON_TZ=${zone[1]} is not an IANA time zone`;
    rest = rest.slice(zone[0].length);
  }

  if (rest.startsWith('@every')) return checkEvery(rest);

  const fields = rest.split(/\s+/);
  if (fields.length !== 6) {
    return `"${rest}" has ${fields.length} fields; FC needs 6, seconds first`;
  }
  for (const [index, spec] of CRON_FIELDS.entries()) {
    const problem = checkCronField(fields[index] ?? '', spec);
    if (problem !== undefined) return `${spec.name} "${fields[index]}": ${problem}`;
  }
  return undefined;
}

function checkEvery(text: string): string | undefined {
  const match = /^@every\s+((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (match === null) return `"${text}" must be @every and a duration such as 30m or 1h30m`;
  return /[1-9]/.test(match[1] ?? '') ? undefined : `"${text}" must be longer than zero`;
}

function checkCronField(field: string, spec: CronField): string | undefined {
  for (const item of field.split(',')) {
    const problem = checkCronItem(item, spec);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkCronItem(item: string, spec: CronField): string | undefined {
  if (item === '?') return spec.question ? undefined : '? is allowed only in the day fields';

  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return 'has more than one /';
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) {
    return `step "${step}" must be a whole number above 0`;
  }
  if (range === '*') return undefined;

  const [first = '', last, more] = range.split('-');
  if (more !== undefined) return `"${range}" is not a value or a range`;
  const low = cronValue(first, spec);
  const high = last === undefined ? low : cronValue(last, spec);
  if (low === undefined || high === undefined) {
    return `must be ${spec.min}-${spec.max}${spec.names ? ` or ${spec.names.join(' ')}` : ''}`;
  }
  return low <= high ? undefined : `range "${range}" runs backwards`;
}

function cronValue(text: string, spec: CronField): number | undefined {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d{1,2}$/.test(text)) return undefined;

  const value = Number(text);
  return value >= spec.min && value <= spec.max ? value : undefined;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Resolves the ${…} expressions s.yaml uses, the way `s` finds them: up to the first }. */
class Resolver {
  vars: Json = {};
  readonly missing = new Set<string>();
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  resolveTree(value: unknown): unknown {
    if (typeof value === 'string') return this.resolveString(value);
    if (Array.isArray(value)) return value.map((item) => this.resolveTree(item));
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, this.resolveTree(item)]),
    );
  }

  private resolveString(text: string): string {
    return text.replace(/\$\{([\s\S]*?)\}/g, (whole, expression: string) => {
      const value = this.evaluate(expression.trim());
      if (value === undefined)
        this.problems.push(`${whole}: is not an expression this check knows`);
      return value ?? whole;
    });
  }

  private evaluate(expression: string): string | undefined {
    const env = /^env\(\s*(['"])(\w+)\1\s*(?:,\s*(['"])(.*?)\3\s*)?\)$/.exec(expression);
    if (env?.[2] !== undefined) {
      const value = this.env[env[2]];
      if (value === undefined && env[4] === undefined) this.missing.add(env[2]);
      return value ?? env[4] ?? '';
    }

    const variable = /^vars\.([\w-]+)$/.exec(expression)?.[1];
    if (variable !== undefined && variable in this.vars) return String(this.vars[variable]);
    return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function main(file: string): void {
  const path = resolve(file);
  const problems = checkTemplate(readFileSync(path, 'utf8'), {
    env: process.env,
    root: resolve(path, '..'),
    requireEnv: true,
  });
  for (const problem of problems) process.stderr.write(`check-template: ${problem}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`check-template: ${file} is ready to deploy\n`);
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(script).href) {
  main(process.argv[2] ?? 's.yaml');
}
