import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/index';
import {
  captureClientRequest,
  ddsClient,
  failureOf,
  PLAIN_ACCOUNT,
  type SignatureVersion,
  STS_ACCOUNT,
  sendRaw,
  signAcs3,
} from './helpers/emulator';

const INSTANCE = 'dds-bp1a2b3c4d5e6f7g8h';
const DESCRIBE = ['DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE }] as const;
const FIFTEEN_MINUTES = 15 * 60 * 1000;

const emulator: Emulator = await startEmulator();
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe.each<SignatureVersion>(['ACS3', 'v2'])(
  'with %s signatures, the official client',
  (signature) => {
    it('is answered for an STS role key with its token', async () => {
      const body = await ddsClient(emulator, { signature }).call(...DESCRIBE);

      expect(body.RequestId).toMatch(
        /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
      );
      expect(body).toMatchObject({ DBInstances: { DBInstance: [{ DBInstanceId: INSTANCE }] } });
    });

    it('is answered for a plain access key', async () => {
      const body = await ddsClient(emulator, { signature, account: PLAIN_ACCOUNT }).call(
        ...DESCRIBE,
      );

      expect(body).toMatchObject({ DBInstances: { DBInstance: [{ DBInstanceId: INSTANCE }] } });
    });

    it('is answered when parameters need RFC 3986 escaping', async () => {
      const client = ddsClient(emulator, { signature });

      const body = await client.call('DescribeDBInstances', {
        RegionId: 'cn-hangzhou',
        'Tag.1.Key': "it's (a) *tag*! + more",
      });

      expect(body.TotalCount).toBe(0);
    });

    it('is answered when parameters travel in a form body', async () => {
      const client = ddsClient(emulator, { signature });

      const body = await client.call('DescribeDBInstanceAttribute', {}, { DBInstanceId: INSTANCE });

      expect(body).toMatchObject({ DBInstances: { DBInstance: [{ DBInstanceId: INSTANCE }] } });
    });

    it('is refused with SignatureDoesNotMatch for a wrong secret', async () => {
      const account = { ...STS_ACCOUNT, accessKeySecret: 'not-the-secret' };

      const failure = await failureOf(
        ddsClient(emulator, { signature, account }).call(...DESCRIBE),
      );

      expect(failure).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    });

    it('is refused with InvalidSecurityToken.MismatchWithAccessKey for a wrong token', async () => {
      const account = { ...STS_ACCOUNT, securityToken: 'someone-elses-token' };

      const failure = await failureOf(
        ddsClient(emulator, { signature, account }).call(...DESCRIBE),
      );

      expect(failure).toMatchObject({
        code: 'InvalidSecurityToken.MismatchWithAccessKey',
        statusCode: 400,
      });
    });

    it('is refused with InvalidSecurityToken.Malformed when an STS key has no token', async () => {
      const { securityToken: _dropped, ...account } = STS_ACCOUNT;

      const failure = await failureOf(
        ddsClient(emulator, { signature, account }).call(...DESCRIBE),
      );

      expect(failure).toMatchObject({ code: 'InvalidSecurityToken.Malformed', statusCode: 400 });
    });

    it('is refused with InvalidAccessKeyId.NotFound for an unknown key', async () => {
      const account = { accessKeyId: 'LTAIunknown', accessKeySecret: 'whatever' };

      const failure = await failureOf(
        ddsClient(emulator, { signature, account }).call(...DESCRIBE),
      );

      expect(failure).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    });

    it('refuses a replayed request with SignatureNonceUsed', async () => {
      const sent = await captureClientRequest(...DESCRIBE, { signature });

      const first = await sendRaw(emulator, sent);
      const replay = await sendRaw(emulator, sent);

      expect(first.status).toBe(200);
      expect(replay).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
    });

    it('refuses a request whose parameter was altered after signing', async () => {
      const sent = await captureClientRequest(...DESCRIBE, { signature });
      const altered = { ...sent, url: sent.url.replace(INSTANCE, 'dds-bp1local0ssd0rs01') };

      const response = await sendRaw(emulator, altered);

      expect(altered.url).not.toBe(sent.url);
      expect(response).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
    });

    it('refuses a request whose form body was altered after signing', async () => {
      const sent = await captureClientRequest(
        'DescribeDBInstanceAttribute',
        {},
        {
          signature,
          body: { DBInstanceId: INSTANCE },
        },
      );
      const altered = { ...sent, body: sent.body.replace(INSTANCE, 'dds-bp1local0ssd0rs01') };

      const response = await sendRaw(emulator, altered);

      expect(altered.body).not.toBe(sent.body);
      expect(response.status).toBe(400);
      expect(response.body.Code).toBe(
        signature === 'ACS3' ? 'ContentSHA256NotMatched' : 'SignatureDoesNotMatch',
      );
    });

    it('refuses a request signed 20 minutes ago with InvalidTimeStamp.Expired', async () => {
      const late = await startEmulator({ now: () => Date.now() + 20 * 60 * 1000 });

      const failure = await failureOf(ddsClient(late, { signature }).call(...DESCRIBE));
      await late.close();

      expect(failure).toMatchObject({ code: 'InvalidTimeStamp.Expired', statusCode: 400 });
    });

    it('refuses a request dated 20 minutes ahead with InvalidTimeStamp.Expired', async () => {
      const early = await startEmulator({ now: () => Date.now() - 20 * 60 * 1000 });

      const failure = await failureOf(ddsClient(early, { signature }).call(...DESCRIBE));
      await early.close();

      expect(failure).toMatchObject({ code: 'InvalidTimeStamp.Expired', statusCode: 400 });
    });
  },
);

describe('a hand-signed ACS3 request', () => {
  it('is accepted when built exactly as described', async () => {
    const response = await sendRaw(
      emulator,
      signAcs3(emulator, { action: DESCRIBE[0], query: DESCRIBE[1] }),
    );

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      DBInstances: { DBInstance: [{ DBInstanceId: INSTANCE }] },
    });
  });

  it('is accepted 14 minutes off the server clock', async () => {
    const date = isoSeconds(Date.now() - 14 * 60 * 1000);

    const response = await sendRaw(emulator, signAcs3(emulator, { ...describeSpec(), date }));

    expect(response.status).toBe(200);
  });

  it('refuses a stale x-acs-date with InvalidTimeStamp.Expired', async () => {
    const date = isoSeconds(Date.now() - FIFTEEN_MINUTES - 60_000);

    const response = await sendRaw(emulator, signAcs3(emulator, { ...describeSpec(), date }));

    expect(response).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Expired' } });
  });

  it('refuses a future x-acs-date with InvalidTimeStamp.Expired', async () => {
    const date = isoSeconds(Date.now() + FIFTEEN_MINUTES + 60_000);

    const response = await sendRaw(emulator, signAcs3(emulator, { ...describeSpec(), date }));

    expect(response).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Expired' } });
  });

  it('refuses a reused nonce with SignatureNonceUsed even on a freshly signed request', async () => {
    const first = await sendRaw(emulator, signAcs3(emulator, { ...describeSpec(), nonce: 'n-1' }));
    const second = await sendRaw(emulator, signAcs3(emulator, { ...describeSpec(), nonce: 'n-1' }));

    expect(first.status).toBe(200);
    expect(second).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
  });

  it('refuses a body that does not match x-acs-content-sha256 with ContentSHA256NotMatched', async () => {
    const signed = signAcs3(emulator, { ...describeSpec(), body: 'DBInstanceId=a' });

    const response = await sendRaw(emulator, { ...signed, body: 'DBInstanceId=b' });

    expect(response).toMatchObject({ status: 400, body: { Code: 'ContentSHA256NotMatched' } });
  });

  it('refuses a request that does not sign x-acs-action with IncompleteSignature', async () => {
    const signed = signAcs3(emulator, describeSpec());
    const authorization = (signed.headers.authorization ?? '').replace('x-acs-action;', '');

    const response = await sendRaw(emulator, {
      ...signed,
      headers: { ...signed.headers, authorization },
    });

    expect(response).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature' } });
  });

  it('answers errors with the vendor body: RequestId, HostId, Code, Message, Recommend', async () => {
    const signed = signAcs3(emulator, {
      ...describeSpec(),
      account: { ...PLAIN_ACCOUNT, accessKeySecret: 'x' },
    });

    const response = await sendRaw(emulator, signed);

    expect(response.contentType).toMatch(/^application\/json/);
    expect(Object.keys(response.body).sort()).toEqual([
      'Code',
      'HostId',
      'Message',
      'Recommend',
      'RequestId',
    ]);
    expect(response.body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('is logged as a refused call with its code', async () => {
    const signed = signAcs3(emulator, {
      ...describeSpec(),
      account: { ...PLAIN_ACCOUNT, accessKeySecret: 'x' },
    });

    await sendRaw(emulator, signed);

    expect(emulator.calls).toEqual([
      expect.objectContaining({ action: DESCRIBE[0], status: 400, code: 'SignatureDoesNotMatch' }),
    ]);
  });
});

function describeSpec() {
  return { action: DESCRIBE[0], query: { ...DESCRIBE[1] } };
}
