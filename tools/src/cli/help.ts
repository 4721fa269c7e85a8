import type { CommandType } from './api-types.js';

/** The command types the server takes, what each does and its params (functions/src/commands/commands.schemas.ts). */
export const COMMAND_TYPES = [
  { type: 'PING', does: 'asks the device to answer at once: is it reachable?' },
  { type: 'RELAUNCH_APP', does: 'restarts the kiosk app' },
  { type: 'REBOOT', does: 'restarts the device' },
  { type: 'LOCK', does: 'locks the screen' },
  { type: 'CLEAR_APP_DATA', does: "clears the kiosk app's data" },
  {
    type: 'INSTALL_APK',
    does: 'installs or updates an app from the catalog (mdm releases)',
    params: `{"releaseId": "<release id>", "allowDowngrade": false}`,
  },
  {
    type: 'SET_CONFIG',
    does: "changes the agent's settings (at least one)",
    params: `{"heartbeatIntervalSec": 5-86400, "kioskPackage": "com.example.app"}`,
  },
  { type: 'WIPE', does: "factory-resets the device (admins only; to many: another admin's approval)" },
  {
    type: 'RELEASE_OWNER',
    does: "the agent gives up Device Owner and stops reporting; the device keeps its data (admins only; to many: another admin's approval)",
  },
] as const satisfies readonly { type: CommandType; does: string; params?: string }[];

// Fails to compile when the server takes a type that this list does not explain.
type Missing<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const complete: Missing<CommandType, (typeof COMMAND_TYPES)[number]['type']> = true;
void complete;

const TYPES = COMMAND_TYPES.map((c: { type: string; does: string; params?: string }) =>
  [`  ${c.type.padEnd(15)}${c.does}`, ...(c.params ? [`  ${' '.repeat(15)}--params '${c.params}'`] : [])].join('\n'),
).join('\n');

export const HELP = `Usage: mdm <command> [options]

The fleet's admin API from a terminal. Sign in once per server; sessions are kept in
~/.config/fleet-mdm/cli.json (MDM_CONFIG overrides it), readable by you only.

Servers and sessions
  context add NAME URL                   remember a server (the first one added is used from then on)
  context use NAME                       send the next commands to NAME (--context NAME or MDM_CONTEXT: for one run)
  context list                           the servers, and who is signed in to each
  context remove NAME                    forget a server and its session
  login [--url URL] [--email E]          sign in (password from --password, MDM_PASSWORD or the prompt)
  login --token TOKEN [--url URL]        use a scoped API token instead (or MDM_TOKEN with MDM_URL, for one run)
  logout                                 end the session

Devices and commands (an ID may be a unique prefix of it; a device also by its name or serial)
  devices [--status online|offline|retiring|retired|any] [--group G] [--tag T] [--search Q] [--limit N]
                                         list devices (retired ones only with --status retired or any)
  device show DEVICE                     state, battery, app, open alerts and recent commands
  device retire DEVICE [--wipe|--release-owner] [--yes]
                                         retire: its credentials stop working, its history stays (admins;
                                         --wipe: send a signed WIPE first, retired once the device took it;
                                         --release-owner: the agent gives up Device Owner first, the device
                                         keeps its data and becomes an ordinary phone)
  device delete DEVICE [--yes]           delete a retired device with its history (the audit log keeps it)
  device replace OLD NEW [--yes]         NEW takes over the name, group and tags of OLD (retired or offline),
                                         which is retired (admins)
  devices move --group G DEVICE ... [--yes]
                                         move devices to group G (--group "": none), all or none
  devices tag [--add T ...] [--remove T ...] DEVICE ... [--yes]
                                         add and remove tags on devices, all or none
  command TYPE (--device DEVICE ... | --group G | --tag T | --all) [--params JSON] [--yes] [--watch]
                                         send a signed command; beyond one device (PING aside) it shows the
                                         count the server computed and asks (--yes: send to that count);
                                         a WIPE to many waits for another admin's approval
  command watch ID [--timeout SEC]       follow a command to its end (default 300 s)
  command cancel ID ... | --batch BATCH  cancel commands the devices have not started: never executed
  approvals [--all]                      WIPE requests waiting for a second admin (--all: decided ones too)
  approvals approve ID                   approve another admin's request: the commands are sent now
  approvals reject ID [--reason TEXT]    reject a request (or withdraw your own)
  commands [--device DEVICE] [--status S] [--limit N]
                                         recent commands, newest first

App catalog (the agent and the kiosk apps)
  releases [list] [--package P]          releases, newest first: version, signer, downloads, devices
  releases upload FILE [--notes TEXT] [--allow-downgrade]
                                         upload an APK; the first release of a package pins its signer
  releases register --url URL [--notes TEXT] [--allow-downgrade]
                                         the server downloads an https URL (its egress policy applies)
                                         and checks and stores it like an upload
  releases bad ID --reason TEXT          never install or serve this release again
  releases rotate-signer PACKAGE --signer SHA256 --reason TEXT
                                         accept another signing certificate for the package from now on

Staged rollouts (docs/rollouts.md)
  rollouts [list]                        rollouts, newest first: state, wave, devices
  rollouts show ID                       one rollout: each wave's counts and gate verdict
  rollouts start --from RELEASE --to RELEASE --waves 1,10,50,100 --soak SEC [--group G] [--name N]
                [--no-rollback] [--allow-downgrade]
                                         move the devices on release A to B in waves, each gated on app health
  rollouts pause|resume|abort|promote|rollback ID [--reason TEXT]
                                         stop, go on, end, pass the current wave now, or send A back to all

Enrollment, users, alerts, settings
  token create [--label L] [--group G] [--expires-in SEC] [--max-uses N] [--script FILE] [--shell sh|ps1]
                                         an enrollment token and its ADB script
  token list                             enrollment tokens
  token revoke ID ...                    revoke unused enrollment tokens
  api-token create --name N --scope S ... [--expires-in SEC]
                                         a scoped API token for automation, printed once (scopes:
                                         releases:read|write devices:read|write commands:read|write audit:read)
  api-token list                         API tokens and their status
  api-token revoke ID ...                revoke API tokens at once
  users                                  console users and their roles
  admin create --email E --role viewer|operator|admin [--name N] [--password P]
                                         add a console user; a generated password is printed once
  alerts [--all]                         open alerts (--all: resolved ones too)
  alerts ack ID ... | --all              acknowledge alerts (several in one call): a person has them, self-healing stops
  alerts tail [--interval SEC]           print alerts as they open and resolve, until Ctrl-C
  groups hours GROUP [--zone Z --hours DAYS=RANGES ...]
                                         show or set a group's alert hours (e.g. --zone Europe/Berlin
                                         --hours mon-fri=09:00-21:00 --hours sat=10:00-16:00; sun= is closed)
  settings get                           the alert settings, one key=value a line
  settings set KEY=VALUE ...             change only these (e.g. thresholds.offlineAfterSec=600 or offlineAfterSec=600)

Command types
${TYPES}

Read commands take --json for scripts. Exit codes: 0 done, 1 refused or failed, 2 usage,
3 command watch gave up waiting.
`;
