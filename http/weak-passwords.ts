/**
 * Passwords a guesser tries first: the most common ones in published leak statistics (the
 * English-speaking lists and the Chinese ones: 123456789, a123456789, woaini1314, qq123456...),
 * at the console's minimum length of 10 and above. Checked case-insensitively, beside the
 * patterns in `trivial`: one character repeated, a run of digits or keyboard letters, or the
 * account's own name.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890',
  '0123456789',
  '12345678910',
  '123456789a',
  'a123456789',
  'a1234567890',
  '1q2w3e4r5t',
  '1qaz2wsx3edc',
  'qwertyuiop',
  'qwerty1234',
  'qwerty123456',
  'asdfghjkl;',
  'asdfghjkl1',
  'zxcvbnm123',
  'password12',
  'password123',
  'password1234',
  'passw0rd123',
  'p@ssw0rd123',
  'iloveyou12',
  'iloveyou123',
  'woaini1314',
  'woaini5201314',
  '5201314520',
  '1314520520',
  'qq123456789',
  'qq1234567890',
  'abc1234567',
  'abcd123456',
  'abcdefghij',
  'admin12345',
  'admin123456',
  'administrator',
  'welcome123',
  'letmein123',
  'football123',
  'baseball123',
  'princess123',
  'sunshine123',
  'superman123',
  'dragon1234',
  'monkey1234',
  'master1234',
  'changeme123',
  'huawei123456',
  'root123456',
  'test123456',
  'guest12345',
  'user123456',
  'default123',
  'estate-gateway',
  'estategateway',
  'gateway123',
]);

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', '0987654321'];

/** Why this password would be guessed at once, or undefined when it would not. */
export function trivial(password: string, user?: string): string | undefined {
  const p = password.toLowerCase();
  if (COMMON_PASSWORDS.has(p)) return 'it is one of the most common passwords';
  if (/^(.)\1*$/.test(p)) return 'it repeats one character';
  if (KEYBOARD_ROWS.some((row) => (row + row).includes(p))) return 'it is a run of keys or digits';
  if (user && p.includes(user.toLowerCase()) && p.length - user.length < 4) return 'it is the user name with little added';
  return undefined;
}
