/**
 * The one way a test waits: for a condition, checked every 20 ms, never for a fixed time. It
 * fails after `ms` with what it was waiting for (a string, or a function that says what was
 * seen instead, asked only then).
 */
export async function until(what: string | (() => string | Promise<string>), cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
