/** The path prefix a workspace's Jupyter serves under, the same on every backend (the proxy routes by it). */
export function baseUrlFor(workspaceId: string): string {
  return `/w/${workspaceId}/`;
}
