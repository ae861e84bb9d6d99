/**
 * The smallest function that does the same job: read the instance from a timer payload and make
 * one CreateBackup through the vendor's client, nothing else. The benchmark bundles it with our
 * esbuild settings and measures the function against it, so every figure is a difference.
 */
import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';

interface Context {
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export async function handler(event: Buffer, context: Context): Promise<unknown> {
  const timer = JSON.parse(event.toString('utf8')) as { payload: string };
  const query = JSON.parse(timer.payload) as Record<string, string>;
  const endpoint = new URL(process.env.DDS_ENDPOINT ?? 'http://127.0.0.1:8787');

  const client = new OpenApi(
    new Config({ ...context.credentials, endpoint: endpoint.host, protocol: 'http' }),
  );
  const params = new Params({
    action: 'CreateBackup',
    version: '2015-12-01',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const runtime = { readTimeout: 10_000, connectTimeout: 5_000 };
  const response = await client.callApi(params, new OpenApiRequest({ query }), runtime as never);
  return response.body;
}
