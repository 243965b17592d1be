// The forms of an HTML page, for a test browser that fills in and submits an IdP's login, consent
// and self-submitting (logout confirmation, form_post) pages.

export interface ParsedForm {
  action: string;
  method: string;
  /** Named inputs with their (decoded) values, hidden or not. */
  fields: Record<string, string>;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
}

/** All forms of an HTML page, with actions resolved against `pageUrl`. Regex-based: fine for the
 *  simple server-rendered forms of an IdP, not a general HTML parser. */
export function parseForms(html: string, pageUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (let m = formRe.exec(html); m; m = formRe.exec(html)) {
    const openTag = `<form ${m[1]}>`;
    const fields: Record<string, string> = {};
    const inputRe = /<input\b[^>]*>/gi;
    for (let i = inputRe.exec(m[2]); i; i = inputRe.exec(m[2])) {
      const name = attr(i[0], 'name');
      if (name) fields[name] = attr(i[0], 'value') ?? '';
    }
    forms.push({
      action: new URL(attr(openTag, 'action') ?? pageUrl, pageUrl).href,
      method: (attr(openTag, 'method') ?? 'GET').toUpperCase(),
      fields,
    });
  }
  return forms;
}
