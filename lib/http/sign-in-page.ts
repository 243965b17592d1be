/**
 * The sign-in page (SPEC §12): one button per identity provider, labelled with its display name.
 * Plain links, so it works without JavaScript and with the keyboard alone (Tab, Enter); a provider
 * that cannot be reached now is shown as a disabled button that says so. Same look as the error
 * page. Everything interpolated is escaped.
 */
import { escapeHtml, pageHead } from './error-page';

export interface SignInOption {
  id: string;
  name: string;
  /** Same-origin `/oauth2/login?provider=<id>&redirect=…`. */
  loginUrl: string;
  /** False when the provider's discovery failed or did not answer in time. */
  available: boolean;
}

/** Rules on top of the shared look: a column of full-width buttons; greyed ones keep 4.5:1 contrast. */
const SIGN_IN_STYLE = `<style>
  .providers { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; min-width: 16rem; }
  .providers .button { display: block; width: 100%; box-sizing: border-box; text-align: center; font: inherit; border: 0; }
  .providers button.button:disabled { background: #6b7280; color: #fff; cursor: not-allowed; }
  .unavailable { display: block; font-size: .85rem; }
</style>`;

function option(o: SignInOption): string {
  const id = `provider-${escapeHtml(o.id)}`;
  if (o.available) return `<li><a class="button" id="${id}" href="${escapeHtml(o.loginUrl)}">${escapeHtml(o.name)}</a></li>`;
  return `<li><button class="button" id="${id}" type="button" disabled aria-describedby="${id}-status">${escapeHtml(o.name)}<span class="unavailable" id="${id}-status">Unavailable right now</span></button></li>`;
}

export function renderSignInPage(options: SignInOption[]): string {
  return `${pageHead('Sign in · Gatehouse', SIGN_IN_STYLE)}
<body>
<main role="main" aria-labelledby="title">
  <h1 id="title">Sign in</h1>
  <p id="choose">Choose where you have an account.</p>
  <ul class="providers" aria-labelledby="choose">
    ${options.map(option).join('\n    ')}
  </ul>
</main>
</body>
</html>
`;
}
