import { ApiError, describeError } from './api.js';

/**
 * Server errors in the operator's words. The API answers `invalid body - maxUses: Invalid input:
 * expected number, received null; group: letters, ...` or `request bodies are limited to 65536
 * bytes`: precise for a developer, noise for an operator. This turns them into one sentence per
 * field, keyed by the field's path so the form can highlight it.
 */
export interface FormError {
  /** The sentence above the form (empty when every problem belongs to a field). */
  message: string;
  /** Problems by field path (`group`, `thresholds.offlineAfterSec`). */
  fields: Record<string, string>;
}

const sentence = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : s);

/** One zod issue message in plain words. */
export function plainIssue(message: string): string {
  let m: RegExpMatchArray | null;
  if ((m = message.match(/expected (number|string|boolean|array|object), received (null|undefined|\w+)/i))) {
    const what = { number: 'a number', string: 'some text', boolean: 'yes or no', array: 'a list', object: 'a value' }[m[1]!.toLowerCase()];
    return m[2] === 'null' || m[2] === 'undefined' ? `Enter ${what}.` : `Enter ${what} here.`;
  }
  if ((m = message.match(/too small: expected (?:number|int) to be >=?\s*(-?[\d.]+)/i))) return `Must be at least ${m[1]}.`;
  if ((m = message.match(/too big: expected (?:number|int) to be <=?\s*(-?[\d.]+)/i))) return `Must be at most ${m[1]}.`;
  if ((m = message.match(/too small: expected string to have >=?\s*(\d+) characters?/i))) {
    return m[1] === '1' ? 'This cannot be empty.' : `Use at least ${m[1]} characters.`;
  }
  if ((m = message.match(/too big: expected string to have <=?\s*(\d+) characters?/i))) return `Use at most ${m[1]} characters.`;
  if ((m = message.match(/too big: expected array to have <=?\s*(\d+) items?/i))) return `At most ${m[1]} entries.`;
  if (/expected int/i.test(message)) return 'Enter a whole number.';
  if (/invalid (url|e-?mail)/i.test(message)) return `Enter a valid ${/url/i.test(message) ? 'URL' : 'e-mail address'}.`;
  // The schemas' own rule texts ("letters, digits, space, _ . : - (1-64 characters)").
  if (/^letters, digits/.test(message)) return `Use only ${message}.`;
  return sentence(message);
}

/** A failed request as a form shows it; `labels` names the form's fields for messages outside them. */
export function formError(err: unknown, labels: Record<string, string> = {}): FormError {
  if (!(err instanceof ApiError)) return { message: describeError(err), fields: {} };
  if (err.code === 'payload_too_large' || /request bodies are limited to/.test(err.message)) {
    const bytes = Number(err.message.match(/(\d+) bytes/)?.[1] ?? 0);
    const limit = bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : 'the limit';
    return {
      message: `That is too much to send at once (the server accepts up to ${limit}). Shorten the text or send fewer entries.`,
      fields: {},
    };
  }
  const invalid = err.message.match(/^invalid (body|query|params?) - (.*)$/s);
  if (err.status === 400 && invalid) {
    const fields: Record<string, string> = {};
    const loose: string[] = [];
    for (const problem of invalid[2]!.split('; ')) {
      const at = problem.match(/^([\w.]+): (.*)$/s);
      if (!at) {
        loose.push(plainIssue(problem));
        continue;
      }
      // tags.3 belongs to the tags field; thresholds.offlineAfterSec is its own field.
      const path = at[1]!.replace(/\.\d+$/, '');
      const text = plainIssue(at[2]!);
      if (path in labels || !Object.keys(labels).length) fields[path] ??= text;
      else loose.push(`${labels[path] ?? path}: ${text}`);
    }
    const named = Object.entries(fields).map(([p, t]) => `${labels[p] ?? p}: ${t}`);
    return {
      message: loose.length
        ? loose.join(' ')
        : `Please correct ${named.length === 1 ? 'the highlighted field' : 'the highlighted fields'}.`,
      fields,
    };
  }
  return { message: describeError(err), fields: {} };
}
