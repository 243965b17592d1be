/**
 * The value parsers of the config schema: durations, booleans, host:port lists, URLs, upstream
 * routes. Each reports problems through zod's context, so lib/config.ts names the variable.
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import { OAUTH2 } from './routes';

export interface HostPort { host: string; port: number }
export interface UpstreamRoute { prefix: string; target: URL }

export const list = (value: string, separator = /,/) => value.split(separator).map((s) => s.trim()).filter(Boolean);
export const optional = z.string().trim().optional().transform((v) => (v ? v : undefined));

/** A duration in ms; `allowZero`: `0s` is a legitimate value (a shutdown wait), not a mistake. */
export const duration = (fallback: string, { allowZero = false } = {}) =>
  z.string().trim().default(fallback).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === null || ms < 0 || (ms === 0 && !allowZero)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use e.g. 90s, 30m, 10h, 7d)` });
      return z.NEVER;
    }
    return ms;
  });

export const boolean = z.string().trim().toLowerCase().default('false').transform((value, ctx) => {
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  ctx.addIssue({ code: 'custom', message: `"${value}" is not true or false` });
  return z.NEVER;
});

export function hostPorts(value: string, ctx: z.RefinementCtx): HostPort[] {
  return list(value).map((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port` });
      return { host: '', port: 0 };
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

export function httpUrl(value: string, ctx: z.RefinementCtx, what: string): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URL` });
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `${what} must be an http(s) URL, got "${url.protocol}"` });
    return null;
  }
  if (url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: `${what} must not carry a query, fragment or credentials` });
    return null;
  }
  url.pathname = url.pathname.replace(/\/+$/, '') || '/';
  return url;
}

export function parseUpstreams(value: string, ctx: z.RefinementCtx): UpstreamRoute[] {
  const routes = list(value).map((entry) => {
    const eq = entry.indexOf('=');
    const prefix = eq > 0 ? entry.slice(0, eq).trim().replace(/\/+$/, '') || '/' : '';
    if (!prefix.startsWith('/') || prefix.startsWith(OAUTH2)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" must be PREFIX=URL with a prefix that starts with / and is not under /oauth2` });
      return null;
    }
    const target = httpUrl(entry.slice(eq + 1).trim(), ctx, 'an upstream');
    return target ? { prefix, target } : null;
  });
  return routes.filter((r): r is UpstreamRoute => r !== null).sort((a, b) => b.prefix.length - a.prefix.length);
}
