/**
 * The built-in error page (SPEC §7): status, one plain sentence, a "try again" link that restarts
 * login with the original target, and the correlation id. Everything interpolated is escaped.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The look of Gatehouse's own pages (this one and the sign-in page, lib/http/sign-in-page.ts). */
export const PAGE_STYLE = `<style>
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { max-width: 32rem; padding: 2rem; }
  .status { font-size: .9rem; letter-spacing: .08em; text-transform: uppercase; opacity: .7; }
  h1 { font-size: 1.5rem; margin: .25rem 0 1.5rem; }
  a.button { display: inline-block; padding: .6rem 1.2rem; border-radius: .4rem; background: #2563eb; color: #fff; text-decoration: none; }
  a.button:focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }
  .home { margin-left: 1rem; }
  .id { margin-top: 2rem; font-size: .85rem; opacity: .75; }
  code { font-family: ui-monospace, monospace; }
</style>`;

/** The start of every Gatehouse page, up to `<body>`: `title` is escaped; `style` is a page's own `<style>`. */
export const pageHead = (title: string, style = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
${PAGE_STYLE}${style && `\n${style}`}
</head>`;

export interface ErrorPageContent {
  status: number;
  message: string;
  correlationId: string;
  /** Where "try again" goes: a same-origin login URL. */
  retryUrl: string;
  homeUrl: string;
}

export function renderErrorPage(p: ErrorPageContent): string {
  return `${pageHead(`Error ${p.status} · Gatehouse`)}
<body>
<main role="main" aria-labelledby="title">
  <p class="status">Error ${p.status}</p>
  <h1 id="title">${escapeHtml(p.message)}</h1>
  <p><a class="button" id="retry" href="${escapeHtml(p.retryUrl)}">Try again</a><a class="home" href="${escapeHtml(p.homeUrl)}">Go to the start page</a></p>
  <p class="id">If this keeps happening, tell support this id: <code id="correlation-id">${escapeHtml(p.correlationId)}</code></p>
</main>
</body>
</html>
`;
}
