import crypto from "node:crypto";

// A container's name is all that Docker's embedded DNS tells another workspace on the same network (a reverse lookup
// of its address). So it carries nothing about its owner or workspace — no email, no workspace name, and not the
// workspace id either (that is what a grant or proxy URL names): a random name, stored with the workspace.
export function newContainerName(): string {
  return `gantry-${crypto.randomBytes(6).toString("hex")}`;
}

/** One persistent volume per user, mounted at /workspace in each of their workspaces. */
export function userVolumeName(userId: string): string {
  return `gantry-home-${userId}`;
}

export const WORKSPACE_NETWORK = "gantry-workspaces";
