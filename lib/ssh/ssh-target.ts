// The SSH user name selects the workspace: `ssh <workspace name or id>@host`. Pure, so the rule is tested on its own.

const MAX = 100;

/** The workspace reference a user name stands for, or null when it cannot name one (empty, too long, control bytes). */
export function workspaceRefFromUsername(username: string): string | null {
  const ref = username.trim();
  if (!ref || ref.length > MAX || /[\u0000-\u001f\u007f]/.test(ref)) return null;
  return ref;
}

/** Picks the workspace a reference names among the user's own: an id first, then a name. */
export function pickWorkspace<W extends { id: string; name: string }>(own: W[], ref: string): W | null {
  return own.find((w) => w.id === ref) ?? own.find((w) => w.name === ref) ?? null;
}

/** A user name safe to show in the audit log and messages (a client controls it). */
export function shownUsername(username: string): string {
  const clean = username.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > MAX ? `${clean.slice(0, MAX)}…` : clean;
}
