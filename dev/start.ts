/**
 * `npm start`: the emulator, the gateway with the built function, one run of the timer that
 * s.yaml defines, then a signed curl line for the webhook. Serves until SIGINT or SIGTERM;
 * with --once it exits after the timer run, 0 when every target was backed up.
 *
 * Human lines go to stderr and start with "▸ "; stdout carries only the function's JSON log
 * lines, so `npm start -- --once | jq` works.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_JOB_DURATION_MS, type Emulator, startEmulator } from '../emulator/index';
import { parseFaults, parseSeeds } from '../emulator/schema';
import type { InvocationResult } from '../functions/create-backup/index';
import { describeFailure, TemplateError, UsageError } from './errors';
import { type FcGateway, type InvokeOutcome, startFcGateway } from './fc-gateway';
import { DEFAULT_BUNDLE, DEFAULT_TEMPLATE, LOCAL, say } from './local';
import { type FunctionSpec, readTemplate, type TimerSpec } from './stack';
import { curlCommand, SAMPLE_WEBHOOK_BODY } from './webhook-curl';

const USAGE = `npm start -- [--once] [--port ${LOCAL.gatewayPort}] [--emulator-port 0]
  [--seed file.json] [--faults faults.json] [--job-duration-ms ${DEFAULT_JOB_DURATION_MS}]
  [--bundle dist/create-backup/index.js] [--template s.yaml]`;

interface StartArgs {
  once: boolean;
  port: number;
  emulatorPort: number;
  jobDurationMs: number;
  seed: string | undefined;
  faults: string | undefined;
  bundle: string;
  template: string;
}

/** Where the function's DDS calls go: the emulator we started, or DDS_ENDPOINT. */
interface Backend {
  endpoint: string;
  emulator: Emulator | undefined;
}

async function main(): Promise<void> {
  const args = readArgs();
  const functions = readTemplate(args.template);
  const backend = await startBackend(args);
  const givenSecret = process.env.WEBHOOK_SECRET;
  const secret = givenSecret ?? randomBytes(24).toString('base64url');

  const gateway = await startFcGateway({
    port: args.port,
    bundlePath: args.bundle,
    functions,
    environment: handlerEnvironment(functions, backend.endpoint, secret),
    // Against a real endpoint the function finds keys as it does outside FC: env or profile.
    ...(backend.emulator === undefined ? { roleCredentials: null } : {}),
  }).catch(async (error: unknown) => {
    await backend.emulator?.close();
    throw error;
  });
  say(`gateway ${gateway.url} serving ${functions.map((f) => f.functionName).join(', ')}`);

  const passed = await fireFirstTimer(gateway, functions);
  printWebhookHelp(gateway, secret, givenSecret === undefined);

  if (args.once) {
    await stop(gateway, backend, args.faults);
    process.exitCode = passed ? 0 : 1;
    return;
  }
  say('serving until Ctrl-C');
  const onSignal = () => void stop(gateway, backend, args.faults).then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

function readArgs(): StartArgs {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string' },
      'emulator-port': { type: 'string' },
      'job-duration-ms': { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      bundle: { type: 'string' },
      template: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(0);
  }

  return {
    once: values.once,
    port: wholeNumber('port', values.port, LOCAL.gatewayPort),
    emulatorPort: wholeNumber('emulator-port', values['emulator-port'], 0),
    jobDurationMs: wholeNumber(
      'job-duration-ms',
      values['job-duration-ms'],
      DEFAULT_JOB_DURATION_MS,
    ),
    seed: values.seed,
    faults: values.faults,
    bundle: values.bundle === undefined ? DEFAULT_BUNDLE : resolve(values.bundle),
    template: values.template === undefined ? DEFAULT_TEMPLATE : resolve(values.template),
  };
}

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} takes a whole number, not "${text}"`);
  return Number(text);
}

async function startBackend(args: StartArgs): Promise<Backend> {
  const external = process.env.DDS_ENDPOINT?.trim();
  if (external) {
    say(`!!! DDS_ENDPOINT is set: the function calls ${external}, not the emulator.`);
    say('!!! Backups made there are real. Unset DDS_ENDPOINT to use the emulator.');
    return { endpoint: external, emulator: undefined };
  }

  const emulator = await startEmulator({
    port: args.emulatorPort,
    jobDurationMs: args.jobDurationMs,
    ...(args.seed === undefined ? {} : { instances: parseSeeds(readJson(args.seed)) }),
    ...(args.faults === undefined ? {} : { faults: readFaults(args.faults) }),
  });
  if (args.faults !== undefined) watchFaults(emulator, args.faults);
  say(`emulator ${emulator.url} (faults: PUT ${emulator.url}/__emulator/faults)`);
  return { endpoint: emulator.url, emulator };
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A missing faults file means no faults, so it can be written after the stack starts. */
function readFaults(path: string) {
  return existsSync(path) ? parseFaults(readJson(path)) : [];
}

function watchFaults(emulator: Emulator, path: string): void {
  watchFile(path, { interval: 500 }, () => {
    try {
      emulator.setFaults(readFaults(path));
      say(`faults reloaded from ${path}`);
    } catch (error) {
      // The previous faults stay: a half-written file must not stop the stack.
      say(`faults file ignored: ${describeFailure(error)}`);
    }
  });
}

/**
 * The handler reads process.env once, at its first invocation. The caller's own environment
 * wins over s.yaml's literal values, which win over the local defaults.
 */
function handlerEnvironment(
  functions: readonly FunctionSpec[],
  endpoint: string,
  secret: string,
): Record<string, string> {
  const fromTemplate = Object.assign({}, ...functions.map((f) => f.environment).reverse());
  const defaults: Record<string, string> = {
    ...fromTemplate,
    DDS_ENDPOINT: endpoint,
    DDS_REGION: fromTemplate.DDS_REGION ?? LOCAL.region,
    LOG_LEVEL: fromTemplate.LOG_LEVEL ?? 'info',
    WEBHOOK_SECRET: secret,
  };

  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) {
    environment[name] = process.env[name] ?? value;
  }
  return environment;
}

/** Runs the first timer s.yaml defines, as FC would fire it; true when every target is OK. */
async function fireFirstTimer(
  gateway: FcGateway,
  functions: readonly FunctionSpec[],
): Promise<boolean> {
  const spec = functions.find((candidate) => candidate.timers.length > 0);
  const timer = spec?.timers[0];
  if (spec === undefined || timer === undefined) {
    say(new TemplateError('s.yaml defines no timer trigger: nothing to fire').message);
    return false;
  }

  say(`firing timer ${timer.triggerName} of ${spec.functionName} with ${timer.payload}`);
  const outcome = await gateway.invoke(spec.functionName, timerEvent(timer));
  return printOutcome(timer, outcome);
}

function timerEvent(timer: TimerSpec): Buffer {
  const triggerTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const event = { triggerTime, triggerName: timer.triggerName, payload: timer.payload };
  return Buffer.from(JSON.stringify(event));
}

function printOutcome(timer: TimerSpec, outcome: InvokeOutcome): boolean {
  if (!outcome.ok) {
    say(`timer ${timer.triggerName}: the function threw ${outcome.error.errorType}`);
    say(`  ${outcome.error.errorMessage}`);
    return false;
  }

  const result = outcome.result as Partial<InvocationResult>;
  say(`timer ${timer.triggerName}: summary ${result.summary ?? '(none)'}`);
  if (result.error) say(`  refused: ${result.error.code}: ${result.error.message}`);
  for (const target of result.results ?? []) {
    const detail = target.error
      ? `${target.error.code}: ${target.error.message}`
      : `BackupJobId ${target.BackupJobId ?? '-'}, BackupId ${target.BackupId ?? '-'}`;
    say(`  ${target.DBInstanceId} ${target.status}: ${detail}`);
  }
  return result.summary === 'OK';
}

function printWebhookHelp(gateway: FcGateway, secret: string, generated: boolean): void {
  const url = `${gateway.url}/`;
  if (generated) {
    say(`WEBHOOK_SECRET was generated for this run; to sign requests yourself:`);
    say(`  export WEBHOOK_SECRET=${secret}`);
  }
  if (gateway.port !== LOCAL.gatewayPort) say(`  export FC_GATEWAY_URL=${gateway.url}`);
  say('call the webhook (the signature is valid for 5 minutes; npm run sign-webhook makes more):');
  process.stderr.write(`${curlCommand(url, secret, SAMPLE_WEBHOOK_BODY)}\n`);
  say(`or: npm run invoke -- dev/events/sharded.json`);
}

async function stop(gateway: FcGateway, backend: Backend, faults: string | undefined) {
  if (faults !== undefined) unwatchFile(faults);
  await gateway.close();
  await backend.emulator?.close();
}

main().catch((error: unknown) => {
  if ((error as { code?: unknown }).code === 'EADDRINUSE') {
    say(`${(error as Error).message}: pass --port 0 (or --emulator-port 0) for any free port`);
  } else {
    say(describeFailure(error));
  }
  process.exit(2);
});
