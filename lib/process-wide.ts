/**
 * One object per process, whichever copy of lib/ asks for it. The compiled server and each of
 * Next's bundles (proxy.ts, the route handlers) load their own copy of every lib/ module, so a
 * module-level `let` or `Map` silently splits into several (a log level applied in one copy is not
 * seen by the others: PITFALLS.md). Every piece of mutable state lives in an object made here.
 */
export function processWide<T>(name: string, create: () => T): T {
  const holder = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(`gatehouse.${name}`);
  return (holder[key] ??= create()) as T;
}
