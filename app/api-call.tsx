'use client';

import { useState } from 'react';
import { useBasePath } from '@/lib/client/use-session';

/** Calls the demo upstream through Gatehouse and shows what the upstream received. */
export function ApiCall() {
  const basePath = useBasePath();
  const [result, setResult] = useState<string>('');
  const [status, setStatus] = useState<number | null>(null);

  async function call() {
    const response = await fetch(`${basePath}/api/whoami`, { headers: { Accept: 'application/json' } });
    setStatus(response.status);
    const text = await response.text();
    try {
      setResult(JSON.stringify(JSON.parse(text), null, 2));
    } catch {
      setResult(text);
    }
  }

  return (
    <section className="card" aria-labelledby="api">
      <h2 id="api">Call the API through Gatehouse</h2>
      <p>
        <code>GET /api/whoami</code> is forwarded to the upstream with <code>Authorization: Bearer …</code> when you are
        logged in. The demo upstream shows what it received.
      </p>
      <p className="actions">
        <button className="button" type="button" id="call-api" onClick={call}>Call the API</button>
      </p>
      {status !== null && (
        <div aria-live="polite">
          <p>Status <strong id="api-status">{status}</strong></p>
          <pre id="api-result">{result}</pre>
        </div>
      )}
    </section>
  );
}
