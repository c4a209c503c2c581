/** "Did you mean …?" for a misspelt key or id: the closest known word, if it is close enough. */

/** Edits between two words, a swap of neighbours counting as one (gaet → gate). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word nearest `word` (case aside: `UnlockMS` → `unlockMs`), when within a third of its length. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const score = k.toLowerCase() === word.toLowerCase() ? 0 : distance(word.toLowerCase(), k.toLowerCase());
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= (word.length < 4 ? 1 : 2) && best !== word ? best : undefined;
}

export const didYouMean = (word: string, known: Iterable<string>): string => {
  const near = closest(word, known);
  return near ? `; did you mean "${near}"?` : '';
};
