import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { getBasePath } from '@/lib/app-server';
import { SessionProvider } from '@/lib/client/session-provider';
import './globals.css';

export const metadata: Metadata = {
  title: 'Gatehouse',
  description: 'OpenID Connect login in front of your app',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        {/* useSession() in any client component below; the ingress path comes from the request. */}
        <SessionProvider basePath={await getBasePath()}>{children}</SessionProvider>
      </body>
    </html>
  );
}
