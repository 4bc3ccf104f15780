import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { ApiTokens } from "@/components/settings/api-tokens";
import { ChangePasswordForm } from "@/components/settings/change-password-form";
import { requirePageUser } from "@/lib/auth/page-guard";
import { listApiTokens } from "@/lib/auth/api-tokens";
import { SshKeys } from "@/components/settings/ssh-keys";
import { listSshKeys } from "@/lib/ssh/ssh-keys";
import { sshGatewayInfo } from "@/lib/ssh/gateway-info";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const user = await requirePageUser("/settings");
  const [tokens, sshKeys] = await Promise.all([listApiTokens(user.id), listSshKeys(user.id)]);
  const gateway = sshGatewayInfo();
  return (
    <AppShell user={user}>
      <PageHeader title="Settings" description={`Signed in as ${user.email}.`} />
      <div className="space-y-6">
        <ApiTokens
          tokens={tokens.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null }))}
        />
        <SshKeys
          keys={sshKeys.map((k) => ({ id: k.id, name: k.name, fingerprint: k.fingerprint, type: k.type, createdAt: k.createdAt.toISOString() }))}
          gateway={gateway.enabled ? { host: gateway.host, port: gateway.port, fingerprint: gateway.fingerprint } : null}
        />
        <ChangePasswordForm />
      </div>
    </AppShell>
  );
}
