// Gantry marks what it creates; it never lists or touches anything without these labels, and ownership
// comes from its own database, never from a label (labels can be put on by hand).
export const LABEL = {
  managed: "gantry.managed",
  workspace: "gantry.workspace",
  user: "gantry.user",
} as const;

export function workspaceLabels(workspaceId: string, userId: string): Record<string, string> {
  return { [LABEL.managed]: "true", [LABEL.workspace]: workspaceId, [LABEL.user]: userId };
}

export const MANAGED_FILTER = { label: [`${LABEL.managed}=true`] };
