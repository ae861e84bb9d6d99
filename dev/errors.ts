/**
 * Failures of the local stack's own tools (gateway, start, invoke, sign-webhook). Each has a
 * literal name and a stable code, and a message that says what to do next.
 */
export abstract class LocalStackError extends Error {
  abstract override readonly name: string;
  abstract readonly code: string;
}

/** The built bundle the gateway loads is missing or exports no handler. */
export class BundleMissingError extends LocalStackError {
  override readonly name = 'BundleMissingError';
  readonly code = 'BundleMissing';
}

/** s.yaml is unreadable, or names nothing the stack can run. */
export class TemplateError extends LocalStackError {
  override readonly name = 'TemplateError';
  readonly code = 'TemplateInvalid';
}

/** A command-line argument is missing or malformed. */
export class UsageError extends LocalStackError {
  override readonly name = 'UsageError';
  readonly code = 'Usage';
}

/** An environment variable a CLI needs is missing; `variable` names it. */
export class MissingVariableError extends LocalStackError {
  override readonly name = 'MissingVariableError';
  readonly code = 'MissingVariable';

  constructor(
    readonly variable: string,
    why: string,
  ) {
    super(`${variable} is not set: ${why}`);
  }
}

/** One line for a person: the error's name and message, without a stack for known failures. */
export function describeFailure(error: unknown): string {
  if (error instanceof LocalStackError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
