// The part of @alicloud/fc2 2.6.6 the local stack uses; the package ships no types.
declare module '@alicloud/fc2' {
  export interface FCClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    /** Required when accessKeyID starts with STS. */
    securityToken?: string;
    region: string;
    secure?: boolean;
    internal?: boolean;
    endpoint?: string;
    timeout?: number;
  }

  export interface FCResponse {
    headers: Record<string, string | string[] | undefined>;
    /** Parsed JSON when the answer is application/json, else the body as text. */
    data: unknown;
  }

  export default class FCClient {
    constructor(accountId: string, config: FCClientConfig);
    invokeFunction(
      serviceName: string,
      functionName: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
    ): Promise<FCResponse>;

    /** `FC <id>:<signature>` over the request's method, signed headers and path. */
    static getSignature(
      accessKeyID: string,
      accessKeySecret: string,
      method: string,
      path: string,
      headers: Record<string, string>,
      queries?: Record<string, string> | null,
    ): string;
  }
}
