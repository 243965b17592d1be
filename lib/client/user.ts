/** How a page names the user: the id_token's `name`, else `preferred_username`, else `sub`. Pure; for server and client components. */
export function displayName(user: { sub?: unknown; name?: unknown; preferred_username?: unknown } | null | undefined): string {
  for (const claim of [user?.name, user?.preferred_username, user?.sub]) {
    if (typeof claim === 'string' && claim.trim()) return claim;
  }
  return '';
}
