/**
 * A memo of a pure function of a string, for inputs that repeat on every request (header names,
 * the ids of a session). Clients choose those strings, so it is bounded: a key longer than
 * `maxKeyLength` is computed each time and never kept, and a full memo is emptied, not grown.
 */
export function boundedMemo<T>(compute: (key: string) => T, maxEntries: number, maxKeyLength: number): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    if (key.length > maxKeyLength) return compute(key);
    let value = memo.get(key);
    if (value === undefined) {
      if (memo.size >= maxEntries) memo.clear();
      value = compute(key);
      memo.set(key, value);
    }
    return value;
  };
}
