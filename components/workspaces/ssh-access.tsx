"use client";

import { useEffect, useState } from "react";
import { apiRequest } from "../api-request";
import { sshCommand, sshConfigBlock } from "@/lib/ssh/ssh-config-block";

type Gateway = { enabled: true; host: string; port: number; fingerprint: string } | { enabled: false };

// One request for all the cards on the page: the gateway's address and host key do not change while it is open.
let gatewayInfo: Promise<Gateway | null> | null = null;
function loadGateway(): Promise<Gateway | null> {
  gatewayInfo ??= apiRequest<Gateway>("/api/ssh").then((r) => (r.ok ? r.data : null));
  return gatewayInfo;
}

/** "SSH and VS Code": the command and a ready ~/.ssh/config block for one workspace, folded away until asked for. */
export function SshAccess({ workspace }: { workspace: { id: string; name: string } }) {
  const [gateway, setGateway] = useState<Gateway | null>(null);
  useEffect(() => {
    let live = true;
    void loadGateway().then((g) => live && setGateway(g));
    return () => {
      live = false;
    };
  }, []);
  if (!gateway?.enabled) return null;
  const endpoint = { host: gateway.host, port: gateway.port };
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-slate-700 hover:text-slate-900">SSH and VS Code</summary>
      <div className="mt-2 space-y-2">
        <p className="text-slate-600">With one of your SSH keys (Settings), while the workspace is running:</p>
        <pre aria-label={`SSH command for ${workspace.name}`} className="overflow-x-auto rounded-md bg-slate-50 p-2 font-mono text-xs">{sshCommand(endpoint, workspace)}</pre>
        <p className="text-slate-600">Or add this to <code className="text-xs">~/.ssh/config</code> (VS Code Remote-SSH picks it up):</p>
        <pre aria-label={`SSH config block for ${workspace.name}`} className="overflow-x-auto rounded-md bg-slate-50 p-2 font-mono text-xs">{sshConfigBlock(endpoint, workspace)}</pre>
        <p className="text-xs text-slate-500">The first connection shows the host key fingerprint; it must be <code className="break-all">{gateway.fingerprint}</code>.</p>
      </div>
    </details>
  );
}
