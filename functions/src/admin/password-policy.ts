import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * What a password must be. bcrypt reads at most 72 BYTES and silently ignores the rest, so the limit
 * is in UTF-8 bytes, not characters: 72 x 'ü' is 144 bytes and refused, and sign-in refuses anything
 * longer than 72 bytes without checking it, so "36 x 'ü' + junk" is never taken for "36 x 'ü'".
 * The worst passwords are refused: the ~49,000 most common ones (the list zxcvbn-ts ships in
 * @zxcvbn-ts/language-common, MIT), compared without case, and ones of fewer than 4 distinct
 * characters ('aaaaaaaaaa', '1212121212').
 */
export const PASSWORD_MIN_CHARS = 10;
export const PASSWORD_MAX_BYTES = 72;

let common: Set<string> | undefined;
const commonPasswords = () => (common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase())));

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if ([...password].length < PASSWORD_MIN_CHARS) return `at least ${PASSWORD_MIN_CHARS} characters`;
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return `at most ${PASSWORD_MAX_BYTES} bytes (UTF-8)`;
  if (new Set(password).size < 4) return 'too simple: use at least 4 different characters';
  if (commonPasswords().has(password.toLowerCase())) return 'too common: it is on the list of the most used passwords';
  return null;
}

/** True when bcrypt can compare the password whole (sign-in refuses longer ones unchecked). */
export const withinBcryptLimit = (password: string) => Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
