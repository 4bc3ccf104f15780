/**
 * A path inside one workspace's prefix (/w/<id>/…), after dot segments are resolved the way a browser would;
 * anything else — another workspace, another site, "..", backslashes, control characters, the proxy's own
 * _gantry/ paths — becomes the prefix.
 */
export function safeWorkspacePath(workspaceId: string, next: string | null | undefined): string {
  const prefix = `/w/${workspaceId}/`;
  if (!next || next.length > 2000 || /[\\\u0000-\u001f]/.test(next)) return prefix;
  try {
    const url = new URL(next, "http://workspace.invalid");
    if (url.origin !== "http://workspace.invalid" || !url.pathname.startsWith(prefix)) return prefix;
    if (/%2e|%2f|%5c/i.test(url.pathname)) return prefix;
    // The proxy's own handshake paths are never a landing (a next of _gantry/start would go round in circles).
    if (url.pathname.startsWith(`${prefix}_gantry/`)) return prefix;
    return url.pathname + url.search + url.hash;
  } catch {
    return prefix;
  }
}
