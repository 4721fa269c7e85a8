import { AdminApi, ApiError } from './api.js';
import { friendlyMessage } from './friendly.js';
import { HELP } from './help.js';
import { UsageError, type Io } from './output.js';
import { loadStore, selectedContext, storePath } from './store.js';
import { ackAlerts, listAlerts, tailAlerts } from './verbs/alerts.js';
import { API_TOKEN_FIELDS, createApiToken, listApiTokens, revokeApiTokens } from './verbs/api-tokens.js';
import { approve, listApprovals, reject } from './verbs/approvals.js';
import { cancelCommands, COMMAND_FIELDS, listCommands, sendCommand, watch } from './verbs/commands.js';
import { listDevices, showDevice } from './verbs/devices.js';
import { groupHours } from './verbs/groups.js';
import { listReleases, markReleaseBad, registerRelease, rotateSigner, uploadRelease } from './verbs/releases.js';
import { listRollouts, rolloutAction, showRollout, startRollout } from './verbs/rollouts.js';
import { BULK_FIELDS, deleteDevice, moveDevices, replaceDevice, retireDevice, tagDevices } from './verbs/lifecycle.js';
import { parse, type Run } from './verbs/verb.js';
import { context, login, logout } from './verbs/session.js';
import { getSettings, setSettings } from './verbs/settings.js';
import { createToken, listTokens, revokeTokens, TOKEN_FIELDS } from './verbs/tokens.js';
import { createAdmin, listUsers, USER_FIELDS } from './verbs/users.js';

export { HELP } from './help.js';
export { UsageError, type Io } from './output.js';

/** The verbs that need a signed-in session, by "command sub" (or "command" when it takes no sub-verb). */
const VERBS: Record<string, (r: Run) => Promise<number>> = {
  devices: listDevices,
  'device show': showDevice,
  'device retire': retireDevice,
  'device delete': deleteDevice,
  'device replace': replaceDevice,
  'devices move': moveDevices,
  'devices tag': tagDevices,
  commands: listCommands,
  'command watch': (r) => {
    if (r.args.length !== 1) throw new UsageError('command watch takes one command id (or a prefix of it)');
    return watch(r, r.args[0]!);
  },
  'command cancel': cancelCommands,
  approvals: listApprovals,
  'approvals list': listApprovals,
  'approvals approve': approve,
  'approvals reject': reject,
  'api-token create': createApiToken,
  'api-token list': listApiTokens,
  'api-token revoke': revokeApiTokens,
  'token create': createToken,
  'token list': listTokens,
  'token revoke': revokeTokens,
  users: listUsers,
  'admin create': createAdmin,
  alerts: listAlerts,
  'alerts ack': ackAlerts,
  'alerts tail': tailAlerts,
  'groups hours': groupHours,
  releases: listReleases,
  'releases list': listReleases,
  'releases upload': uploadRelease,
  'releases register': registerRelease,
  'releases bad': markReleaseBad,
  'releases rotate-signer': rotateSigner,
  rollouts: listRollouts,
  'rollouts list': listRollouts,
  'rollouts show': showRollout,
  'rollouts start': startRollout,
  'rollouts pause': rolloutAction('pause'),
  'rollouts resume': rolloutAction('resume'),
  'rollouts abort': rolloutAction('abort'),
  'rollouts promote': rolloutAction('promote'),
  'rollouts rollback': rolloutAction('rollback'),
  'settings get': getSettings,
  'settings set': setSettings,
};
const WITH_SUB = new Set(Object.keys(VERBS).flatMap((k) => (k.includes(' ') ? [k.split(' ')[0]!] : [])));

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let fields: Record<string, string> = {};
  try {
    const { values: o, positionals } = parse(argv);
    const [cmd, ...rest] = positionals;
    if (o.help || !cmd || cmd === 'help') {
      io.out(HELP);
      return cmd || o.help ? 0 : 2;
    }
    const print = (value: unknown, human: () => void) => (o.json ? io.out(JSON.stringify(value, null, 2)) : human());
    const path = storePath(io.env);
    if (cmd === 'login' || cmd === 'logout' || cmd === 'context') {
      const session = { o, args: rest, io, path, print };
      return await (cmd === 'login' ? login(session) : cmd === 'logout' ? logout(session) : context(session));
    }

    let key = cmd;
    let args = rest;
    if (WITH_SUB.has(cmd) && rest[0] && VERBS[`${cmd} ${rest[0]}`]) [key, args] = [`${cmd} ${rest[0]}`, rest.slice(1)];
    const isSend = cmd === 'command' && !VERBS[key];
    const verb = isSend ? (r: Run) => sendCommand(r, rest[0]!) : VERBS[key];
    if (isSend && rest.length !== 1)
      throw new UsageError('command takes one TYPE, e.g. mdm command REBOOT --device ID (mdm help lists the types)');
    if (!verb) throw new UsageError(`unknown command: ${positionals.slice(0, 2).join(' ')} (mdm help)`);
    fields = isSend
      ? COMMAND_FIELDS
      : key === 'token create'
        ? TOKEN_FIELDS
        : key === 'admin create'
          ? USER_FIELDS
          : key.startsWith('devices ')
            ? BULK_FIELDS
            : key === 'api-token create'
              ? API_TOKEN_FIELDS
              : {};

    const store = await loadStore(path);
    const name = selectedContext(store, o.context, io.env);
    const saved = name ? store.contexts[name] : undefined;
    if (name && !saved) throw new UsageError(`no context named ${name}: mdm context list`);
    // an API token (automation) from the environment wins over the context's session
    const envToken = io.env.MDM_TOKEN;
    if (envToken) {
      const url = o.url ?? io.env.MDM_URL ?? saved?.url;
      if (!url) throw new UsageError('MDM_TOKEN needs a server: set MDM_URL, give --url or select a context');
      return await verb({ o, args, io, api: new AdminApi(url.replace(/\/+$/, ''), envToken), print });
    }
    if (!saved?.token)
      throw new ApiError(
        401,
        'not_signed_in',
        saved ? `sign in to ${name} first: mdm login` : 'sign in first: mdm login --url URL --email E',
      );
    return await verb({ o, args, io, api: new AdminApi(saved.url, saved.token), print });
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`mdm: ${(err as Error).message}`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err(`mdm: ${friendlyMessage(err, fields)}`);
      return 1;
    }
    throw err;
  }
}
