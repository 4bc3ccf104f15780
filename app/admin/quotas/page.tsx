import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { QuotaTable } from "@/components/admin/quota-table";
import { DefaultQuotaForm } from "@/components/admin/default-quota-form";
import { listUsersWithQuota } from "@/lib/users/admin-users";
import { getSettings } from "@/lib/settings/settings";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Quotas" };
export const dynamic = "force-dynamic";

export default async function AdminQuotasPage() {
  const user = await requireAdminPage("/admin/quotas");
  const [users, settings] = await Promise.all([listUsersWithQuota(), getSettings()]);
  return (
    <AppShell user={user}>
      <PageHeader
        title="Quotas"
        description="What each user may hold at once. Lowering a quota never stops running workspaces; it blocks new launches and starts until use is back under it."
      />
      <div className="space-y-6">
        {users.length === 0 ? (
          <p className="text-sm text-slate-600">No users yet.</p>
        ) : (
          <QuotaTable
            users={users.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, disabled: u.disabled, quota: u.quota, usage: u.usage, budgetUsed: u.budgetUsed }))}
          />
        )}
        <DefaultQuotaForm quota={settings.defaultQuota} />
      </div>
    </AppShell>
  );
}
