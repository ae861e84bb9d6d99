// Shapes of the JSON the emulator reads from outside: seed files, fault files and the control
// endpoint. Unknown keys are refused so a typo does not silently do nothing.

import * as v from 'valibot';
import type { FaultSpec, InstanceSeed } from './types';

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const action = v.optional(v.string());

const FaultSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('throttle'),
    count,
    code: v.optional(v.picklist(['Throttling', 'Throttling.User', 'Throttling.Api'])),
    action,
  }),
  v.strictObject({ kind: v.literal('rateLimit'), perSecond: v.pipe(count, v.minValue(1)) }),
  v.strictObject({
    kind: v.literal('serverError'),
    count,
    status: v.optional(v.picklist([500, 503])),
    action,
  }),
  v.strictObject({ kind: v.literal('html502'), count, action }),
  v.strictObject({ kind: v.literal('reset'), count, action, after: v.optional(v.boolean()) }),
  v.strictObject({ kind: v.literal('hang'), count, action, after: v.optional(v.boolean()) }),
]);

const SeedSchema = v.strictObject({
  DBInstanceId: v.pipe(v.string(), v.regex(/^(dds|d)-[a-z0-9]{6,40}$/)),
  RegionId: v.optional(v.string()),
  DBInstanceStatus: v.optional(v.string()),
  DBInstanceType: v.optional(v.picklist(['replicate', 'sharding'])),
  ReplicationFactor: v.optional(v.string()),
  StorageType: v.optional(v.string()),
  LockMode: v.optional(v.string()),
  EngineVersion: v.optional(v.string()),
  Tags: v.optional(v.array(v.strictObject({ Key: v.string(), Value: v.string() }))),
  HasDatabase: v.optional(v.boolean()),
});

/** Thrown with every problem listed, each with the path that holds it. */
export class EmulatorInputError extends Error {
  override readonly name = 'EmulatorInputError';
}

function parse<T>(schema: v.GenericSchema, what: string, input: unknown): T {
  const result = v.safeParse(schema, input);
  if (result.success) return dropUndefined(result.output) as T;

  const problems = result.issues.map((issue) => {
    const path = v.getDotPath(issue);
    return path === null ? issue.message : `${path}: ${issue.message}`;
  });
  throw new EmulatorInputError(`Invalid ${what}: ${problems.join('; ')}`);
}

/** valibot keeps absent optional keys as undefined; our types forbid that. */
function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value === null || typeof value !== 'object') return value;

  const entries = Object.entries(value).filter(([, field]) => field !== undefined);
  return Object.fromEntries(entries.map(([key, field]) => [key, dropUndefined(field)]));
}

export const parseFaults = (input: unknown): FaultSpec[] =>
  parse(v.array(FaultSchema), 'fault list', input);

export const parseSeeds = (input: unknown): InstanceSeed[] =>
  parse(v.array(SeedSchema), 'instance seed list', input);
