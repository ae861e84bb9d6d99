/**
 * The DDS OpenAPI (product Dds, version 2015-12-01) through the vendor's generic client.
 * This module owns three things the client leaves to its caller: the endpoint for a region,
 * timeouts on every call, and turning its errors (which carry the signed request) into
 * ApiError values that are safe to log and to retry on.
 */

import Credential from '@alicloud/credentials';
import OpenApi, { Config as ClientConfig, OpenApiRequest, Params } from '@alicloud/openapi-client';

type RuntimeOptions = Parameters<OpenApi['callApi']>[2];

import type { Config, EndpointOverride, StaticCredentials } from './config';
import { ApiError, ErrorCode } from './errors';

export const API_VERSION = '2015-12-01';

/** Where the product SDK still routes these regions to the central endpoint. */
const CENTRAL_ENDPOINT_REGIONS = new Set([
  'cn-hangzhou',
  'cn-shanghai',
  'cn-beijing',
  'cn-heyuan',
  'cn-wulanchabu',
  'cn-hangzhou-finance',
]);

export function resolveEndpoint(region: string, config: Config): EndpointOverride {
  if (config.endpoint !== undefined) return config.endpoint;
  if (config.useVpcEndpoint)
    return { host: `mongodb-vpc.${region}.aliyuncs.com`, protocol: 'https' };

  const host = CENTRAL_ENDPOINT_REGIONS.has(region)
    ? 'mongodb.aliyuncs.com'
    : `mongodb.${region}.aliyuncs.com`;
  return { host, protocol: 'https' };
}

/** Static keys (the role's, from the context or environment) or the local default chain. */
export type CredentialSource = StaticCredentials | 'default-chain';

export type ApiQuery = Record<string, string | number>;
export type ApiResponse = Record<string, unknown>;

export interface DdsCaller {
  call(action: string, query: ApiQuery, timeoutMs: number): Promise<ApiResponse>;
}

/** One default chain per process: it may read profile files or ask the ECS metadata service. */
let defaultChain: Credential | undefined;

export class DdsApi implements DdsCaller {
  private readonly client: OpenApi;

  constructor(endpoint: EndpointOverride, region: string, credentials: CredentialSource) {
    const settings: ConstructorParameters<typeof ClientConfig>[0] = {
      endpoint: endpoint.host,
      protocol: endpoint.protocol,
      regionId: region,
    };
    if (credentials === 'default-chain') {
      defaultChain ??= new Credential();
      settings.credential = defaultChain;
    } else {
      Object.assign(settings, credentials);
    }
    this.client = new OpenApi(new ClientConfig(settings));
  }

  async call(action: string, query: ApiQuery, timeoutMs: number): Promise<ApiResponse> {
    const params = new Params({
      action,
      version: API_VERSION,
      protocol: 'HTTPS',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new OpenApiRequest({ query: stringify(query) });

    // The client gives up after about 3 s unless both timeouts are set; it never retries.
    // A plain object serves as RuntimeOptions; its class would pull in @alicloud/tea-util.
    const runtime = { readTimeout: timeoutMs, connectTimeout: Math.min(timeoutMs, 5_000) };
    try {
      const response = (await this.client.callApi(params, request, runtime as RuntimeOptions)) as {
        body?: unknown;
      };
      return (response.body ?? {}) as ApiResponse;
    } catch (error) {
      throw toApiError(error);
    }
  }
}

function stringify(query: ApiQuery): Record<string, string> {
  return Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)]));
}

const RETRYABLE_CODE = /Throttling|ServiceUnavailable|InternalError|ServiceTimeout|Unavailable/i;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

interface ClientErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  data?: { Code?: unknown; Message?: unknown; RequestId?: unknown } | undefined;
}

/**
 * Reduces whatever the client threw to an ApiError. Only the upstream code, status, request id
 * and a bounded message survive; the client's error object, with its signed request, is dropped.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;

  const shape = (typeof error === 'object' && error !== null ? error : {}) as ClientErrorShape;
  const status = typeof shape.statusCode === 'number' ? shape.statusCode : undefined;
  const upstreamCode = asText(shape.data?.Code);

  if (upstreamCode !== undefined) {
    const message = asText(shape.data?.Message) ?? upstreamCode;
    const retryable = RETRYABLE_CODE.test(upstreamCode) || (status ?? 0) >= 500;
    return new ApiError(upstreamCode, message, status, asText(shape.data?.RequestId), retryable);
  }

  // A load balancer's HTML page instead of the gateway's JSON: the client fails to parse it.
  if (shape.name === 'SyntaxError') {
    return new ApiError(
      ErrorCode.UpstreamUnavailable,
      'the DDS endpoint answered with a body that is not JSON',
      status,
      undefined,
      true,
    );
  }

  const networkCode = asText(shape.code);
  if (shape.name === 'RequestTimeoutError' || /timeout/i.test(String(shape.name))) {
    return new ApiError(
      ErrorCode.UpstreamUnavailable,
      'the DDS endpoint did not answer in time',
      undefined,
      undefined,
      true,
    );
  }
  if (networkCode !== undefined && NETWORK_CODES.has(networkCode)) {
    return new ApiError(
      ErrorCode.UpstreamUnavailable,
      `the connection to the DDS endpoint failed (${networkCode})`,
      undefined,
      undefined,
      true,
    );
  }

  return new ApiError(
    ErrorCode.UpstreamError,
    'the DDS API call failed unexpectedly',
    status,
    undefined,
    false,
  );
}

function asText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, 300) : undefined;
}
