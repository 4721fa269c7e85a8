import type { BatchResponse, Message, SendResponse } from 'firebase-admin/messaging';
import { describe, expect, it } from 'vitest';
import { FcmPush } from './fcm-push.js';
import { MAX_PUSH_BATCH, noPush, type PushMessage } from '../../ports/push.js';

/** What the fake answers for one token: a message id, or a FirebaseMessagingError-like `{ code, message }`. */
type Answer = { messageId: string } | { code: string; message: string };

/** A Messaging stand-in with only `sendEach`: records every call and answers per token. */
function fakeMessaging(answers: Record<string, Answer> = {}) {
  const calls: Message[][] = [];
  return {
    calls,
    async sendEach(messages: Message[]): Promise<BatchResponse> {
      calls.push(messages);
      const responses = messages.map((m): SendResponse => {
        const token = 'token' in m ? m.token : '';
        const a = answers[token] ?? { messageId: `projects/demo-mdm/messages/${token}` };
        if ('messageId' in a) return { success: true, messageId: a.messageId };
        const error = { code: a.code, message: a.message, toJSON: () => ({ code: a.code, message: a.message }) };
        return { success: false, error };
      });
      const successCount = responses.filter((r) => r.success).length;
      return { responses, successCount, failureCount: responses.length - successCount };
    },
  };
}

/** A Messaging stand-in whose whole call fails. */
function throwingMessaging(err: unknown) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async sendEach(): Promise<BatchResponse> {
      calls++;
      throw err;
    },
  };
}

const msg = (token: string, ttlSec = 600, data: Record<string, string> = { cmd: 'lock' }): PushMessage => ({
  token,
  data,
  ttlSec,
});

describe('FcmPush', () => {
  it('is available', () => {
    expect(new FcmPush(fakeMessaging()).available).toBe(true);
    expect(MAX_PUSH_BATCH).toBe(500);
  });

  it('sends high-priority data messages with the ttl in ms and reports each message id', async () => {
    const messaging = fakeMessaging({ b: { messageId: 'mid-b' } });
    const data = { type: 'command', envelope: '{"a":1,"b":"x y"}', n: '42', empty: '' };
    const outcomes = await new FcmPush(messaging).send([msg('a', 600, data), msg('b', 1), msg('c', 0)]);

    expect(messaging.calls).toHaveLength(1);
    expect(messaging.calls[0]).toEqual([
      { token: 'a', data, android: { priority: 'high', ttl: 600_000 } },
      { token: 'b', data: { cmd: 'lock' }, android: { priority: 'high', ttl: 1000 } },
      { token: 'c', data: { cmd: 'lock' }, android: { priority: 'high', ttl: 0 } },
    ]);
    // data goes through untouched: same keys, same string values, nothing added
    const sent = messaging.calls[0]![0]!;
    expect(sent.data).toStrictEqual(data);
    for (const v of Object.values(sent.data ?? {})) expect(typeof v).toBe('string');

    expect(outcomes).toEqual([
      { ok: true, messageId: 'projects/demo-mdm/messages/a' },
      { ok: true, messageId: 'mid-b' },
      { ok: true, messageId: 'projects/demo-mdm/messages/c' },
    ]);
  });

  it('never sends a negative ttl', async () => {
    const messaging = fakeMessaging();
    await new FcmPush(messaging).send([msg('expired', -30), msg('way-expired', -1e9)]);
    const ttls = messaging.calls[0]!.map((m) => m.android?.ttl);
    expect(ttls).toEqual([0, 0]);
  });

  it('sorts a mixed batch into ok / unregistered / retryable / failed, in message order', async () => {
    const err = (code: string) => ({ code, message: `detail of ${code}` });
    const messaging = fakeMessaging({
      ok1: { messageId: 'm-1' },
      notreg: err('messaging/registration-token-not-registered'),
      invalid: err('messaging/invalid-registration-token'),
      mismatch: err('messaging/mismatched-credential'),
      quota: err('messaging/message-rate-exceeded'),
      down: err('messaging/server-unavailable'),
      internal: err('messaging/internal-error'),
      badarg: err('messaging/invalid-argument'),
      ok2: { messageId: 'm-2' },
    });
    const tokens = ['notreg', 'ok1', 'quota', 'invalid', 'badarg', 'down', 'mismatch', 'internal', 'ok2'];
    const outcomes = await new FcmPush(messaging).send(tokens.map((t) => msg(t)));

    expect(outcomes).toHaveLength(tokens.length);
    const summary = outcomes.map((o) => (o.ok ? `ok:${o.messageId}` : o.kind));
    expect(summary).toEqual([
      'unregistered',
      'ok:m-1',
      'retryable',
      'unregistered',
      'failed',
      'retryable',
      'unregistered',
      'retryable',
      'ok:m-2',
    ]);
    // each failure carries its FCM code and message
    expect(outcomes[0]).toEqual({
      ok: false,
      kind: 'unregistered',
      error: 'messaging/registration-token-not-registered: detail of messaging/registration-token-not-registered',
    });
    expect(outcomes[2]).toMatchObject({ ok: false, error: expect.stringContaining('messaging/message-rate-exceeded') });
    expect(outcomes[4]).toMatchObject({ ok: false, error: expect.stringContaining('messaging/invalid-argument') });
  });

  it('treats an error code it does not know as a final failure', async () => {
    const messaging = fakeMessaging({ x: { code: 'messaging/some-future-code', message: 'new in v99' } });
    const [outcome] = await new FcmPush(messaging).send([msg('x')]);
    expect(outcome).toEqual({ ok: false, kind: 'failed', error: 'messaging/some-future-code: new in v99' });
  });

  it('marks every message retryable with the error text when sendEach throws, and does not throw', async () => {
    const messaging = throwingMessaging(new Error('getaddrinfo ENOTFOUND fcm.googleapis.com'));
    const outcomes = await new FcmPush(messaging).send([msg('a'), msg('b'), msg('c')]);
    expect(messaging.calls).toBe(1);
    expect(outcomes).toEqual(
      ['a', 'b', 'c'].map(() => ({ ok: false, kind: 'retryable', error: 'getaddrinfo ENOTFOUND fcm.googleapis.com' })),
    );
  });

  it('survives a non-Error rejection from sendEach', async () => {
    const outcomes = await new FcmPush(throwingMessaging('socket hang up')).send([msg('a')]);
    expect(outcomes).toEqual([{ ok: false, kind: 'retryable', error: 'socket hang up' }]);
  });

  it('survives sendEach throwing synchronously', async () => {
    const messaging = {
      sendEach(): Promise<BatchResponse> {
        throw new Error('sync boom');
      },
    };
    await expect(new FcmPush(messaging).send([msg('a')])).resolves.toEqual([{ ok: false, kind: 'retryable', error: 'sync boom' }]);
  });
});

describe('noPush', () => {
  it('is not available and fails every message without throwing', async () => {
    expect(noPush.available).toBe(false);
    const outcomes = await noPush.send([msg('a'), msg('b')]);
    expect(outcomes).toEqual([
      { ok: false, kind: 'failed', error: 'push is not configured' },
      { ok: false, kind: 'failed', error: 'push is not configured' },
    ]);
    await expect(noPush.send([])).resolves.toEqual([]);
  });
});
