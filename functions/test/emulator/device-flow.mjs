// Run inside `firebase emulators:exec`: one device's life through the emulated HTTPS functions,
// reached the way production reaches them - through Hosting's rewrites (firebase.json). Prints one
// JSON line with what it saw; exits non-zero on the first unexpected answer.
const base = process.env.MDM_URL;
const email = process.env.MDM_EMAIL;
const password = process.env.MDM_PASSWORD;
if (!base || !email || !password) throw new Error('set MDM_URL, MDM_EMAIL and MDM_PASSWORD');

async function call(method, path, { token, body, expect = 200 } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const heartbeatBody = (level) => ({
  sentAt: new Date().toISOString(),
  battery: { level, charging: false },
  memory: { availBytes: 1_200_000_000, totalBytes: 4_000_000_000 },
  app: { package: 'com.example.kiosk', running: true, foreground: true },
  uptimeSec: 3600,
  agentVersion: '1.0.0',
});

const { token: admin } = await call('POST', '/api/v1/admin/login', { body: { email, password } });
const created = await call('POST', '/api/v1/admin/enrollment-tokens', {
  token: admin,
  body: { label: 'emulator', group: 'Lab' },
  expect: 201,
});
const enrolled = await call('POST', '/api/v1/enroll', {
  body: {
    enrollmentToken: created.token,
    device: { model: 'Pixel 7', manufacturer: 'Google', androidVersion: '14', sdkInt: 34, serial: 'EMU1', agentVersion: '1.0.0' },
  },
  expect: 201,
});
await call('POST', '/api/v1/enroll', {
  body: { enrollmentToken: created.token, device: { model: 'x', manufacturer: 'x', androidVersion: '14', sdkInt: 34, agentVersion: '1' } },
  expect: 409,
});
const { accessToken } = await call('POST', '/api/v1/device/session', {
  body: { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret },
});

const answers = [];
for (const level of [80, 79]) answers.push(await call('POST', '/api/v1/heartbeat', { token: accessToken, body: heartbeatBody(level) }));
const sent = await call('POST', '/api/v1/admin/commands', {
  token: admin,
  body: { type: 'PING', deviceIds: [enrolled.deviceId] },
  expect: 201,
});
const withCommand = await call('POST', '/api/v1/heartbeat', { token: accessToken, body: heartbeatBody(78) });
const envelope = withCommand.commands.find((c) => c.cid === sent.commands[0].id);
if (!envelope) throw new Error(`the PING was not in the heartbeat answer: ${JSON.stringify(withCommand)}`);
await call('POST', `/api/v1/commands/${envelope.cid}/result`, { token: accessToken, body: { status: 'succeeded', output: 'pong' } });
const command = await call('GET', `/api/v1/admin/commands/${envelope.cid}`, { token: admin });
const device = await call('GET', `/api/v1/admin/devices/${enrolled.deviceId}`, { token: admin });
await call('GET', '/api/v1/admin/devices', { expect: 401 });

console.log(
  JSON.stringify({
    deviceId: enrolled.deviceId,
    heartbeats: answers.length + 1,
    nextHeartbeatSec: answers[0].nextHeartbeatSec,
    commandStatus: command.status,
    device,
  }),
);
