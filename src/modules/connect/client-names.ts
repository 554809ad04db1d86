// Client names are shown to earners on the consent page. A platform named like the service
// itself ("Badge Backpack", "BACKPACK", "Bаckp4ck" with a Cyrillic а) would pass its request
// off as the service's own, so names are compared after folding case, spacing, punctuation,
// accents and look-alike characters away.

/** Characters that read as a Latin letter; letters that read alike fold to one. */
const LOOK_ALIKES: Record<string, string> = {
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '|': 'l',
  '!': 'l',
  i: 'l',
  // Cyrillic
  а: 'a',
  в: 'b',
  с: 'c',
  е: 'e',
  һ: 'h',
  і: 'l',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'l',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
};

/** The letters a reader sees in a name, lower case, without marks, spacing or punctuation. */
export function foldName(name: string): string {
  let folded = '';
  // NFKD splits accents off and turns full-width and other compatibility forms into plain ones.
  for (const ch of name.normalize('NFKD').toLowerCase()) {
    const mapped = LOOK_ALIKES[ch] ?? ch;
    if (/^[a-z]$/.test(mapped)) folded += mapped;
  }
  // "rn" and "vv" read as "m" and "w" in many fonts.
  return folded.replaceAll('rn', 'm').replaceAll('vv', 'w');
}

/** Whether a client name reads as the service's own name, or contains "backpack". */
export function imitatesService(name: string, serviceName: string): boolean {
  const folded = foldName(name);
  return [serviceName, 'backpack'].some((own) => {
    const needle = foldName(own);
    return needle.length > 0 && folded.includes(needle);
  });
}
