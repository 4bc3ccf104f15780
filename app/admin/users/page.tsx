import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { CreateUserForm, UsersTable } from "@/components/admin/users-admin";
import { listUsersWithQuota } from "@/lib/users/admin-users";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Users" };
export const dynamic = "force-dynamic";

export default async function AdminUsersPage() {
  const user = await requireAdminPage("/admin/users");
  const users = await listUsersWithQuota();
  return (
    <AppShell user={user}>
      <PageHeader title="Users" description="Create accounts, change roles, disable or enable sign-in, and reset passwords. Quotas are on the Quotas page." />
      <div className="space-y-6">
        <CreateUserForm />
        {users.length === 0 ? (
          <p className="text-sm text-slate-600">No users yet.</p>
        ) : (
          <UsersTable
            selfId={user.id}
            users={users.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, disabled: u.disabled, createdAt: u.createdAt.toISOString(), workspaces: u.usage.workspaces }))}
          />
        )}
      </div>
    </AppShell>
  );
}
