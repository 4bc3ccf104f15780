import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { ApiTokens } from "@/components/settings/api-tokens";
import { ChangePasswordForm } from "@/components/settings/change-password-form";
import { requirePageUser } from "@/lib/auth/page-guard";
import { listApiTokens } from "@/lib/auth/api-tokens";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const user = await requirePageUser("/settings");
  const tokens = await listApiTokens(user.id);
  return (
    <AppShell user={user}>
      <PageHeader title="Settings" description={`Signed in as ${user.email}.`} />
      <div className="space-y-6">
        <ApiTokens
          tokens={tokens.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null }))}
        />
        <ChangePasswordForm />
      </div>
    </AppShell>
  );
}
