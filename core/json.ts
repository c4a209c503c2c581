/**
 * Untrusted JSON (camera pushes, platform commands): parsed only when it nests no deeper than a
 * real message ever does. V8's parser, and every walk over the result (error messages, canonical
 * JSON for signatures), recurse once per level: a body of 100,000 `[` would exhaust the stack and
 * surface as a 500. One linear scan outside strings finds the depth first.
 */

/** Real pushes and commands nest a few levels; 64 leaves room for any vendor's envelope. */
export const MAX_JSON_DEPTH = 64;

export type JsonParse = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonParse {
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) return { ok: false, reason: `nested deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: jsonErrorReason(err) };
  }
}

/**
 * Why JSON.parse refused, without the excerpt of the input V8 puts in its message (`"device_nam"...
 * is not valid JSON`): the input may be a form with a password in it, and reasons are logged.
 */
export function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/,\s*"(?:[^"\\]|\\.)*"(?:\.\.\.)?\s*is not valid JSON/, ' (not valid JSON)').replace(/"(?:[^"\\]|\\.)*"/g, '"…"');
}

/** The deepest `[`/`{` nesting outside strings, counted up to `stopAbove` + 1. */
export function nestingDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
