"use client";

import { useState } from "react";
import { signOut } from "next-auth/react";

/**
 * Ends the session, then goes to this origin's own login page. next-auth's redirect would use its configured URL
 * (NEXTAUTH_URL or localhost), which need not be the address this browser is using.
 */
export async function signOutToLogin(): Promise<void> {
  await signOut({ redirect: false });
  window.location.assign("/login");
}

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  return (
    <button type="button" disabled={busy} onClick={() => { setBusy(true); void signOutToLogin(); }}
      className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-60">
      Sign out
    </button>
  );
}
