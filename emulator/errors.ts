// Errors the emulator answers with. Status and code follow the vendor gateway; where the vendor
// publishes no code for a case, the choice is documented in emulator/README.md.

/** An error answered to an OpenAPI caller as the vendor JSON body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A bad request to the /__emulator/ control endpoint. */
export class ControlError extends Error {
  override readonly name = 'ControlError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const missing = (name: string): ApiError =>
  new ApiError(400, `Missing${name}`, `${name} is mandatory for this action.`);

export const invalid = (name: string, value: string): ApiError =>
  new ApiError(
    400,
    `Invalid${name}.Malformed`,
    `The specified parameter ${name} "${value}" is not valid.`,
  );

export const internalError = (): ApiError =>
  new ApiError(
    500,
    'InternalError',
    'The request processing has failed due to some unknown error.',
  );

export const serviceUnavailable = (): ApiError =>
  new ApiError(
    503,
    'ServiceUnavailable',
    'The request has failed due to a temporary failure of the server.',
  );
