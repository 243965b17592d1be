/**
 * Durations as people write them in config: `90s`, `30m`, `10h`, `7d`, `1h30m`, `500ms`.
 * A bare number is refused: `30` could mean seconds or minutes, and guessing wrong is silent.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+)(ms|s|m|h|d)/g;

export function parseDuration(input: string): number | null {
  const text = input.trim().toLowerCase();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(total) ? total : null;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Byte sizes: `10485760`, `10MB`, `512kb` (binary units: 1 MB = 1024 KB, like Next's limits). */
export function parseByteSize(input: string): number | null {
  const match = /^(\d+)\s*([a-z]*)$/.exec(input.trim().toLowerCase());
  if (!match || !(match[2] in SIZE_UNITS)) return null;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2]];
  return Number.isSafeInteger(bytes) ? bytes : null;
}
