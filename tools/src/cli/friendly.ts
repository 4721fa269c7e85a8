import type { ApiError } from './api.js';

/**
 * The server's refusal as one plain sentence. Validation messages come from zod
 * ("invalid body - maxUses: Invalid input: expected number, received null"); each problem is reworded
 * with the name the operator typed (`fields` maps body fields to CLI options).
 */
export function friendlyMessage(err: ApiError, fields: Record<string, string> = {}): string {
  const m = /^invalid (body|query|params|path) - (.*)$/s.exec(err.message);
  if (err.code === 'invalid_request' && m) return problems(m[2]!, (path) => fields[path] ?? path);
  const p = /^invalid params for (\w+) - (.*)$/s.exec(err.message);
  if (err.code === 'invalid_params' && p) return problems(p[2]!, (path) => `${p[1]} param ${path}`, p[1]);
  if (err.code === 'payload_too_large') {
    const bytes = /(\d+) bytes/.exec(err.message)?.[1];
    return `that is more than the server accepts${bytes ? ` (${Math.round(Number(bytes) / 1024)} KiB)` : ''}`;
  }
  if (err.status === 401 && err.code !== 'not_signed_in') return `${err.message} (mdm login to sign in again)`;
  if (err.status === 403) return `${err.message} (ask an admin)`;
  return err.message;
}

function problems(text: string, name: (path: string) => string, commandType?: string): string {
  return text
    .split('; ')
    .map((one) => {
      const colon = /^([\w.[\]-]+): (.*)$/s.exec(one);
      const path = colon ? colon[1]! : '';
      return reword(path ? name(path) : '', colon ? colon[2]! : one, commandType);
    })
    .join('; ');
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

function reword(field: string, message: string, commandType?: string): string {
  const subject = field || 'the request';
  let r: RegExpExecArray | null;
  if ((r = /^Invalid input: expected (\w+), received (\w+)$/.exec(message))) {
    if (r[2] === 'undefined') return `${subject} is required`;
    if (r[1] === 'int' && r[2] === 'number') return `${subject} must be a whole number`;
    return `${subject} must be ${TYPE_WORDS[r[1]!] ?? r[1]}, not ${TYPE_WORDS[r[2]!] ?? r[2]}`;
  }
  if ((r = /^Too (small|big): expected (\w+) to (?:be|have) ([<>]=?)([\d.]+)(?: (\w+))?$/.exec(message))) {
    const [, , kind, op, n, unit] = r;
    const bound = op!.startsWith('>') ? (op === '>=' ? 'at least' : 'more than') : op === '<=' ? 'at most' : 'less than';
    if (kind === 'string' && op === '>=' && n === '1') return `${subject} must not be empty`;
    if (kind === 'array') return `${subject} takes ${bound} ${n} ${Number(n) === 1 ? 'item' : 'items'}`;
    return `${subject} must be ${bound} ${n}${unit ? ` ${unit}` : ''}${kind === 'string' ? ' long' : ''}`;
  }
  if ((r = /^Invalid option: expected one of (.*)$/.exec(message))) {
    const options = r[1]!.split('|').map((o) => o.replace(/^"|"$/g, ''));
    return `${subject} must be one of ${options.slice(0, -1).join(', ')}${options.length > 1 ? ' or ' : ''}${options.at(-1)}`;
  }
  if ((r = /^Unrecognized keys?: (.*)$/.exec(message))) {
    const keys = r[1]!.replace(/"/g, '');
    if (commandType) return field ? `${field} does not take ${keys}` : `${commandType} does not take ${keys}`;
    return field ? `${field} has no ${keys}` : `there is no ${keys} here`;
  }
  if (/^Invalid UUID$/i.test(message)) return `${subject} must be a full id`;
  if (/^Invalid URL$/i.test(message)) return `${subject} must be a URL${commandType === 'INSTALL_APK' ? ' starting with https://' : ''}`;
  if (/^Invalid email/i.test(message)) return `${subject} must be an e-mail address`;
  if (/^Invalid ISO datetime$/i.test(message)) return `${subject} must be a date and time such as 2026-12-06T10:00:00Z`;
  if (/^Invalid string: must match pattern/.test(message)) return `${subject} is not in the expected format`;
  if (!field) return message;
  if (/^(must|is|has|needs) /.test(message)) return `${field} ${message}`;
  return `${field}: ${message}`;
}
