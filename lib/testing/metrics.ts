/** The value of one series of a prom-client counter (0 when it has none yet): tests compare before and after. */
import type { Counter } from 'prom-client';

export async function counterValue(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  const series = values.find((v) => Object.entries(labels).every(([name, value]) => v.labels[name] === value));
  return series?.value ?? 0;
}
