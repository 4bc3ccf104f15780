// Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*. Whatever a user types (unicode, spaces, punctuation) is
// folded to a short ASCII slug for readability; the workspace id makes the name collision-free.
export function slug(text: string, max: number): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max)
    .replace(/-+$/, "");
  return s || "x";
}

export function containerNameFor(userEmail: string, workspaceName: string, workspaceId: string): string {
  return `gantry-${slug(userEmail.split("@")[0], 16)}-${slug(workspaceName, 24)}-${workspaceId}`;
}

/** One persistent volume per user, mounted at /workspace in each of their workspaces. */
export function userVolumeName(userId: string): string {
  return `gantry-home-${userId}`;
}

export const WORKSPACE_NETWORK = "gantry-workspaces";
