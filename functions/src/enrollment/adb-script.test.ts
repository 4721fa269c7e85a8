import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminComponent, ps1Script, shScript, type AdbScriptInput } from './adb-script.js';

const TOKEN = `mdmet_${'Ab9_-'.repeat(8)}xyz`;
const input = (over: Partial<AdbScriptInput> = {}): AdbScriptInput => ({
  serverUrl: 'https://mdm.example.com',
  agentPackage: 'dev.fleetmdm.agent',
  adminReceiver: '.AdminReceiver',
  tokenId: '6f1c2b9e-4d3a-4e5f-8a7b-1c2d3e4f5a6b',
  label: 'Lobby kiosk',
  expiresAt: new Date('2026-02-01T00:00:00Z'),
  ...over,
});

/**
 * A stand-in for adb: logs each call's arguments (separated by `|`) and answers from FAKE_* variables.
 * FAKE_DEVICES is a space-separated list of `serial` or `serial=state`.
 */
const FAKE_ADB = `#!/bin/sh
printf '%s|' "$@" >> "$FAKE_LOG"; echo >> "$FAKE_LOG"
case "$1" in
  devices)
    printf 'List of devices attached\\r\\n'
    for d in $FAKE_DEVICES; do s=\${d%%=*}; st=device; [ "$s" = "$d" ] || st=\${d#*=}; printf '%s\\t%s\\r\\n' "$s" "$st"; done
    printf '\\r\\n' ;;
  install) [ -z "\${FAKE_INSTALL_FAIL:-}" ] || { echo 'Failure [INSTALL_FAILED]'; exit 1; }; echo Success ;;
  shell)
    case "$2 $3" in
      'dumpsys account') printf 'User UserInfo{0:Owner:c13}:\\r\\n  Accounts: %s\\r\\n' "\${FAKE_ACCOUNTS:-0}" ;;
      'dpm set-device-owner')
        if [ -n "\${FAKE_DPM_ERROR:-}" ]; then echo "$FAKE_DPM_ERROR" >&2; exit 255; fi
        printf 'Success: Device owner set to package %s\\r\\n' "$4" ;;
      'am broadcast') echo "Broadcast completed: result=\${FAKE_BROADCAST_RESULT:--1}" ;;
      'appops set') [ -z "\${FAKE_APPOPS_FAIL:-}" ] || { echo 'Error: unknown package' >&2; exit 1; } ;;
    esac ;;
esac
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adb-script-test-'));
  await writeFile(join(dir, 'adb'), FAKE_ADB);
  // A stand-in for curl: writes FAKE_APK_BODY to -o and an x-apk-sha256 header (FAKE_APK_SHA256) to -D; exits 7 unless FAKE_CURL_OK.
  await writeFile(
    join(dir, 'curl'),
    `#!/bin/sh
echo curl >> "$FAKE_LOG"
[ -n "\${FAKE_CURL_OK:-}" ] || exit 7
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;;
    -D) hdr=$2; shift ;;
  esac
  shift
done
printf '%s' "$FAKE_APK_BODY" > "$out"
printf 'HTTP/1.1 200 OK\\r\\nx-apk-sha256: %s\\r\\n\\r\\n' "$FAKE_APK_SHA256" > "$hdr"
`,
  );
  await chmod(join(dir, 'adb'), 0o755);
  await chmod(join(dir, 'curl'), 0o755);
  await writeFile(join(dir, 'agent.apk'), 'not really an apk');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** One array of arguments per adb call, in order. */
  calls: string[][];
}

async function run(args: string[], env: Record<string, string> = {}, script = shScript(input())): Promise<Run> {
  const file = join(dir, 'enroll.sh');
  await writeFile(file, script);
  await writeFile(join(dir, 'log'), '');
  const fullEnv = {
    PATH: `${dir}:${process.env.PATH}`,
    FAKE_LOG: join(dir, 'log'),
    FAKE_DEVICES: 'R58M1234',
    MDM_AGENT_APK: join(dir, 'agent.apk'),
    ...env,
  };
  const result = await new Promise<Omit<Run, 'calls'>>((resolve) => {
    execFile('sh', [file, ...args], { env: fullEnv, cwd: dir, timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
  const log = await readFile(join(dir, 'log'), 'utf8');
  const calls = log
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/\|$/, '').split('|'));
  return { ...result, calls };
}

const expectFailure = (r: Run, message: string | RegExp) => {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^enroll: error: /);
  expect(r.stderr).toMatch(message);
};
const didInstall = (r: Run) => r.calls.some((c) => c[0] === 'install');
const didBroadcast = (r: Run) => r.calls.some((c) => c[1] === 'am');

describe('shScript, run with sh against a fake adb', () => {
  it('passes sh -n and starts with a shebang', async () => {
    await writeFile(join(dir, 'x.sh'), shScript(input()));
    const code = await new Promise<number>((res) => execFile('sh', ['-n', join(dir, 'x.sh')], (e) => res(e ? 1 : 0)));
    expect(code).toBe(0);
    expect(shScript(input())).toMatch(/^#!\/bin\/sh\n/);
  });

  it('enrolls: install, set-device-owner, then the enroll broadcast with URL and token', async () => {
    const r = await run([TOKEN]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Done');
    expect(r.calls.map((c) => c.slice(0, 3).join(' '))).toEqual([
      'devices',
      'shell dumpsys account',
      'install -r -g',
      'shell dpm set-device-owner',
      'shell appops set',
      'shell appops set',
      'shell am broadcast',
    ]);
    expect(r.calls[2]).toEqual(['install', '-r', '-g', join(dir, 'agent.apk')]);
    expect(r.calls[3]).toEqual(['shell', 'dpm', 'set-device-owner', 'dev.fleetmdm.agent/.AdminReceiver']);
    expect(r.calls[4]).toEqual(['shell', 'appops', 'set', 'dev.fleetmdm.agent', 'GET_USAGE_STATS', 'allow']);
    expect(r.calls[6]).toEqual([
      'shell',
      'am',
      'broadcast',
      '-a',
      'dev.fleetmdm.agent.action.ENROLL',
      '-n',
      'dev.fleetmdm.agent/.EnrollReceiver',
      // Quoted once more for the device-side shell that `adb shell` hands its arguments to.
      '--es',
      'server_url',
      "'https://mdm.example.com'",
      '--es',
      'enrollment_token',
      TOKEN,
    ]);
  });

  it('takes the token from MDM_ENROLLMENT_TOKEN and never downloads when MDM_AGENT_APK is set', async () => {
    const r = await run([], { MDM_ENROLLMENT_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(r.calls.at(-1)).toContain(TOKEN);
    expect(r.calls.flat()).not.toContain('curl');
  });

  it('fails clearly without a token', async () => {
    const r = await run([]);
    expectFailure(r, /pass the enrollment token as the first argument/);
    expect(r.calls).toEqual([]);
  });

  it.each([
    ['garbage', 'abc'],
    ['a short token', TOKEN.slice(0, -1)],
    ['a long token', `${TOKEN}x`],
    ['a wrong prefix', TOKEN.replace('mdmet_', 'mdmxx_')],
    ['a bad character', `${TOKEN.slice(0, -1)}$`],
    // grep checks line by line: the first line must not vouch for the rest.
    ['a second line', `${TOKEN}\nreboot`],
  ])('rejects %s', async (_name, token) => {
    const r = await run([token]);
    expectFailure(r, /not an enrollment token/);
    expect(r.calls).toEqual([]);
  });

  it('fails mentioning "no device" when adb lists none (or only unusable ones)', async () => {
    expectFailure(await run([TOKEN], { FAKE_DEVICES: '' }), /no device/);
    expectFailure(await run([TOKEN], { FAKE_DEVICES: 'R58=unauthorized EMU=offline' }), /no device/);
  });

  it('fails with two devices unless ANDROID_SERIAL names one of them', async () => {
    const two = await run([TOKEN], { FAKE_DEVICES: 'AAA111 BBB222' });
    expectFailure(two, /sees 2 devices: set ANDROID_SERIAL/);
    expect(didInstall(two)).toBe(false);
    const chosen = await run([TOKEN], { FAKE_DEVICES: 'AAA111 BBB222', ANDROID_SERIAL: 'BBB222' });
    expect(chosen.code).toBe(0);
    expectFailure(
      await run([TOKEN], { FAKE_DEVICES: 'AAA111 BBB222', ANDROID_SERIAL: 'CCC333' }),
      /does not see the device ANDROID_SERIAL=CCC333/,
    );
  });

  it('matches ANDROID_SERIAL literally, not as a pattern', async () => {
    const r = await run([TOKEN], { FAKE_DEVICES: '192x168x1x5:5555 other', ANDROID_SERIAL: '192.168.1.5:5555' });
    expectFailure(r, /does not see the device/);
  });

  it('fails mentioning accounts when the device has any, before installing', async () => {
    const r = await run([TOKEN], { FAKE_ACCOUNTS: '2' });
    expectFailure(r, /has 2 account\(s\).*factory-reset/);
    expect(didInstall(r)).toBe(false);
  });

  it('fails with the output of dpm when set-device-owner fails, without the broadcast', async () => {
    const error = 'java.lang.IllegalStateException: Not allowed to set the device owner because there are already several users';
    const r = await run([TOKEN], { FAKE_DPM_ERROR: error });
    expectFailure(r, `dpm set-device-owner failed: ${error}`);
    expect(didInstall(r)).toBe(true);
    expect(didBroadcast(r)).toBe(false);
  });

  it('fails when adb install fails or MDM_AGENT_APK is not a file', async () => {
    expectFailure(await run([TOKEN], { FAKE_INSTALL_FAIL: '1' }), /adb install failed/);
    const missing = await run([TOKEN], { MDM_AGENT_APK: join(dir, 'missing.apk') });
    expectFailure(missing, /is not a file/);
    expect(didInstall(missing)).toBe(false);
  });

  it('keeps a hostile label inside the comment and a hostile URL inert', async () => {
    const marker = join(dir, 'pwned');
    const label = `Lobby\nrm -rf ~ ; touch ${marker}\r\u2028$(touch ${marker}) \`touch ${marker}\` '"; \\`;
    const serverUrl = `https://mdm.example.com/$(touch ${marker})`;
    const script = shScript(input({ label, serverUrl }));
    await writeFile(join(dir, 'x.sh'), script);
    const syntax = await new Promise<number>((res) => execFile('sh', ['-n', join(dir, 'x.sh')], (e) => res(e ? 1 : 0)));
    expect(syntax).toBe(0);
    const commentLine = script.split('\n').find((l) => l.includes('Lobby'))!;
    expect(commentLine).toMatch(/^# Enrollment token .*\(Lobby rm -rf/);
    const r = await run([TOKEN], {}, script);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.calls.at(-1)).toContain(`'${serverUrl}'`);
  });
});

describe('adminComponent', () => {
  it.each([
    ['.AdminReceiver', 'dev.fleetmdm.agent/.AdminReceiver'],
    ['.admin.Receiver', 'dev.fleetmdm.agent/.admin.Receiver'],
    ['dev.fleetmdm.agent.AdminReceiver', 'dev.fleetmdm.agent/.AdminReceiver'],
    ['dev.fleetmdm.agent.admin.Receiver', 'dev.fleetmdm.agent/.admin.Receiver'],
    ['com.vendor.Receiver', 'dev.fleetmdm.agent/com.vendor.Receiver'],
    // Only a leading package prefix may be shortened; this class lives in another package.
    ['com.vendor.dev.fleetmdm.agent.Receiver', 'dev.fleetmdm.agent/com.vendor.dev.fleetmdm.agent.Receiver'],
  ])('%s -> %s', (receiver, expected) => {
    expect(adminComponent('dev.fleetmdm.agent', receiver)).toBe(expected);
  });
});

// ps1Script is checked as text only: PowerShell (pwsh) is not installed here, so it is not executed.
describe('shScript, the checks a real enrollment needs', () => {
  const APK_BODY = 'the agent apk bytes';
  const APK_SHA = createHash('sha256').update(APK_BODY).digest('hex');
  const download = { MDM_AGENT_APK: '', FAKE_CURL_OK: '1', FAKE_APK_BODY: APK_BODY, FAKE_APK_SHA256: APK_SHA };

  it('fails when the agent does not accept the enrollment broadcast', async () => {
    const r = await run([TOKEN], { FAKE_BROADCAST_RESULT: '0' });
    expectFailure(r, /the agent did not accept the enrollment/);
  });

  it('grants the agent usage access, and fails clearly when it cannot', async () => {
    const r = await run([TOKEN], { FAKE_APPOPS_FAIL: '1' });
    expectFailure(r, /usage access/);
    expect(didBroadcast(r)).toBe(false);
  });

  it('installs a downloaded agent only when its sha256 is the one the server announced', async () => {
    const ok = await run([TOKEN], download);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(didInstall(ok)).toBe(true);
    const bad = await run([TOKEN], { ...download, FAKE_APK_SHA256: 'f'.repeat(64) });
    expectFailure(bad, /sha256/);
    expect(didInstall(bad)).toBe(false);
  });

  it('checks a local agent APK against MDM_AGENT_APK_SHA256 when given', async () => {
    const r = await run([TOKEN], { MDM_AGENT_APK_SHA256: 'e'.repeat(64) });
    expectFailure(r, /sha256/);
    expect(didInstall(r)).toBe(false);
  });

  it('refuses an http:// server unless MDM_ALLOW_CLEARTEXT=1, and then tells the agent it is allowed', async () => {
    const script = shScript(input({ serverUrl: 'http://192.168.1.20:8080' }));
    const refused = await run([TOKEN], {}, script);
    expectFailure(refused, /http:\/\//);
    expect(didInstall(refused)).toBe(false);
    const allowed = await run([TOKEN], { MDM_ALLOW_CLEARTEXT: '1' }, script);
    expect(allowed.code).toBe(0);
    expect(allowed.calls.at(-1)).toEqual(expect.arrayContaining(['--ez', 'allow_cleartext', 'true']));
  });

  it('warns that a device cannot reach a localhost server URL', async () => {
    const script = shScript(input({ serverUrl: 'http://localhost:8080' }));
    expect(script).toMatch(/PUBLIC_URL/);
    const r = await run([TOKEN], { MDM_ALLOW_CLEARTEXT: '1' }, script);
    expect(r.stderr).toMatch(/warning: .*localhost.*PUBLIC_URL/);
  });
});

describe('ps1Script', () => {
  const ps1 = ps1Script(input({ serverUrl: "https://mdm.example.com/o'brien", label: "x\n'; Remove-Item -Recurse C:\\" }));

  it('makes the same checks and steps as the sh script', () => {
    expect(ps1).toContain('param([string]$Token = $env:MDM_ENROLLMENT_TOKEN)');
    // \z, not $: in .NET a $ also matches before a trailing newline
    expect(ps1).toContain("-cnotmatch '^mdmet_[A-Za-z0-9_-]{43}\\z'");
    expect(ps1).toContain('adb sees no device');
    expect(ps1).toContain('$serials.Count -gt 1');
    expect(ps1).toContain('adb shell dumpsys account');
    expect(ps1).toMatch(/account\(s\); Android sets a device owner only on a device without accounts/);
    expect(ps1).toContain('adb install -r -g $apk');
    expect(ps1).toContain('adb shell dpm set-device-owner $AdminComponent');
    expect(ps1).toContain("$AdminComponent = 'dev.fleetmdm.agent/.AdminReceiver'");
    expect(ps1).toContain(
      `adb shell am broadcast -a "$AgentPackage.action.ENROLL" -n "$AgentPackage/.EnrollReceiver" --es server_url "'$ServerUrl'" --es enrollment_token $Token`,
    );
    expect(ps1).toContain('adb shell appops set $AgentPackage GET_USAGE_STATS allow');
    expect(ps1).toContain("-notmatch 'result=-1'");
    expect(ps1).toContain('Get-FileHash -Algorithm SHA256');
    expect(ps1).toContain('MDM_ALLOW_CLEARTEXT');
    const order = ['dumpsys account', 'Get-FileHash', 'adb install', 'set-device-owner $AdminComponent', 'appops set', 'am broadcast'].map(
      (s) => ps1.indexOf(s),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('doubles single quotes in the server URL and keeps the label on its comment line', () => {
    expect(ps1).toContain("$ServerUrl = 'https://mdm.example.com/o''brien'");
    expect(ps1.split('\n').filter((l) => l.includes('Remove-Item'))).toEqual([
      expect.stringMatching(/^# Enrollment token .*\(x '; Remove-Item -Recurse C:\\\)/),
    ]);
  });
});
