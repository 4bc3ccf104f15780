// The ~/.ssh/config block the dashboard shows for a workspace (and the README documents).

export type SshEndpoint = { host: string; port: number };

/** A Host alias: gantry-<workspace name>, with anything OpenSSH's config would trip over replaced. */
export function hostAlias(workspaceName: string): string {
  const safe = workspaceName.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return `gantry-${safe || "workspace"}`;
}

/** The user name is the workspace's id: it never changes and needs no quoting, unlike a name. */
export function sshConfigBlock(endpoint: SshEndpoint, workspace: { id: string; name: string }): string {
  return [
    `Host ${hostAlias(workspace.name)}`,
    `  HostName ${endpoint.host}`,
    `  Port ${endpoint.port}`,
    `  User ${workspace.id}`,
    `  IdentitiesOnly yes`,
    `  # IdentityFile ~/.ssh/id_ed25519`,
  ].join("\n");
}

export function sshCommand(endpoint: SshEndpoint, workspace: { id: string }): string {
  return `ssh -p ${endpoint.port} ${workspace.id}@${endpoint.host}`;
}

/** One known_hosts line for the gateway's host key ("[host]:port" unless the port is 22). */
export function knownHostsLine(endpoint: SshEndpoint, hostKey: string): string {
  const name = endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
  return `${name} ${hostKey}`;
}
