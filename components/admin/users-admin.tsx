"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { LocalTime } from "../local-time";
import { alertClass, cardClass, dangerButton, inputClass, labelClass, primaryButton, secondaryButton, smallButton, successClass, tdClass } from "../form-styles";
import { DataTable } from "../data-table";

export type AdminUser = { id: string; email: string; name: string; role: "admin" | "user"; disabled: boolean; createdAt: string; workspaces: number };

const CREATE_LABELS = { email: "Email", name: "Name", password: "Password", role: "Role" };

/** 18 random bytes as base64url, like the CLI's generated passwords: strong and copy-paste safe. */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function CreateUserForm() {
  const router = useRouter();
  const [form, setForm] = useState({ email: "", name: "", password: "", role: "user" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string[]>([]);
  const [created, setCreated] = useState<string | null>(null);

  async function onSubmit(e: React.FormEvent) {
    e.preventDefault();
    setCreated(null);
    setBusy(true);
    const body: Record<string, string> = { email: form.email, password: form.password, role: form.role };
    if (form.name.trim()) body.name = form.name;
    const result = await apiRequest<{ email: string }>("/api/admin/users", { method: "POST", body, labels: CREATE_LABELS });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      setInvalid(result.error.fields);
      return;
    }
    setError(null);
    setInvalid([]);
    setCreated(`Created ${result.data.email}. Give them their password through a private channel.`);
    setForm({ email: "", name: "", password: "", role: "user" });
    router.refresh();
  }

  const field = (key: keyof typeof form) => ({
    id: `new-user-${key}`,
    value: form[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [key]: e.target.value }),
    "aria-invalid": invalid.includes(key) || undefined,
    "aria-describedby": error ? "new-user-error" : undefined,
    className: inputClass,
  });

  return (
    <section aria-labelledby="create-user-heading" className={cardClass}>
      <h2 id="create-user-heading" className="text-lg font-semibold">Create a user</h2>
      <form onSubmit={onSubmit} noValidate className="mt-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_1fr_1fr_8rem_auto] lg:items-end">
        <div>
          <label htmlFor="new-user-email" className={labelClass}>Email</label>
          <input type="email" autoComplete="off" required maxLength={254} {...field("email")} />
        </div>
        <div>
          <label htmlFor="new-user-name" className={labelClass}>Name <span className="font-normal text-slate-500">(optional)</span></label>
          <input type="text" autoComplete="off" maxLength={100} {...field("name")} />
        </div>
        <div>
          <label htmlFor="new-user-password" className={labelClass}>Password</label>
          <div className="flex gap-2">
            <input type="text" autoComplete="new-password" required maxLength={72} spellCheck={false} {...field("password")} className={`${inputClass} font-mono`} />
            <button type="button" className={`${secondaryButton} mt-1 shrink-0`} onClick={() => setForm({ ...form, password: generatePassword() })}>
              Generate
            </button>
          </div>
        </div>
        <div>
          <label htmlFor="new-user-role" className={labelClass}>Role</label>
          <select {...field("role")}>
            <option value="user">User</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <button type="submit" disabled={busy} className={`${primaryButton} sm:col-span-2 lg:col-span-1`}>{busy ? "Creating…" : "Create user"}</button>
      </form>
      {error && <p id="new-user-error" role="alert" className={`mt-3 ${alertClass}`}>{error}</p>}
      {created && <p role="status" className={`mt-3 ${successClass}`}>{created}</p>}
    </section>
  );
}

function UserRow({ user, isSelf }: { user: AdminUser; isSelf: boolean }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resetOpen, setResetOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [resetError, setResetError] = useState<string | null>(null);

  async function patch(body: Record<string, unknown>, success: string): Promise<boolean> {
    setBusy(true);
    setError(null);
    setNotice(null);
    const result = await apiRequest(`/api/admin/users/${user.id}`, { method: "PATCH", body, labels: { role: "Role", disabled: "Status", password: "New password", name: "Name" } });
    setBusy(false);
    if (!result.ok) {
      if (body.password !== undefined) setResetError(result.error.message);
      else setError(result.error.message);
      return false;
    }
    setNotice(success);
    router.refresh();
    return true;
  }

  return (
    <>
      <tr className={user.disabled ? "bg-slate-50 text-slate-500" : undefined}>
        <th scope="row" className={`${tdClass} text-left font-medium`}>
          {user.email}
          {isSelf && <span className="ml-1 text-xs font-normal text-slate-500">(you)</span>}
        </th>
        <td className={tdClass}>{user.name}</td>
        <td className={tdClass}>
          <select
            aria-label={`Role for ${user.email}`}
            value={user.role}
            disabled={busy}
            onChange={(e) => patch({ role: e.target.value }, `${user.email} is now ${e.target.value === "admin" ? "an admin" : "a user"}.`)}
            className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
          >
            <option value="user">User</option>
            <option value="admin">Admin</option>
          </select>
        </td>
        <td className={tdClass}>
          <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${user.disabled ? "bg-slate-200 text-slate-700" : "bg-emerald-100 text-emerald-800"}`}>
            {user.disabled ? "Disabled" : "Active"}
          </span>
        </td>
        <td className={`${tdClass} tabular-nums`}>{user.workspaces}</td>
        <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={user.createdAt} /></td>
        <td className={tdClass}>
          <div className="flex justify-end gap-2 whitespace-nowrap">
            <button type="button" disabled={busy} className={`${user.disabled ? secondaryButton : dangerButton} ${smallButton}`}
              aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.email}`}
              onClick={() => patch({ disabled: !user.disabled }, user.disabled ? `${user.email} can sign in again.` : `${user.email} is disabled and signed out everywhere.`)}>
              {user.disabled ? "Enable" : "Disable"}
            </button>
            <button type="button" disabled={busy} className={`${secondaryButton} ${smallButton}`} aria-label={`Reset password for ${user.email}`}
              onClick={() => { setPassword(generatePassword()); setResetError(null); setResetOpen(true); }}>
              Reset password
            </button>
          </div>
          <ConfirmDialog
            open={resetOpen}
            title={`Reset the password of ${user.email}?`}
            confirmLabel="Reset password"
            busyLabel="Resetting…"
            busy={busy}
            error={resetError}
            tone="primary"
            onConfirm={async () => {
              if (await patch({ password }, `Password of ${user.email} reset; their sessions have ended. Give them the new password privately.`)) setResetOpen(false);
            }}
            onClose={() => setResetOpen(false)}
          >
            <p>Their current sessions end at once. Hand the new password over through a private channel.</p>
            <label htmlFor={`reset-password-${user.id}`} className={labelClass}>New password</label>
            <input id={`reset-password-${user.id}`} type="text" value={password} onChange={(e) => setPassword(e.target.value)}
              spellCheck={false} autoComplete="off" maxLength={72} className={`${inputClass} font-mono`} />
          </ConfirmDialog>
        </td>
      </tr>
      {(error || notice) && (
        <tr>
          <td colSpan={7} className="px-3 pb-3">
            {error ? <p role="alert" className={alertClass}>{error}</p> : <p role="status" className={successClass}>{notice}</p>}
          </td>
        </tr>
      )}
    </>
  );
}

export function UsersTable({ users, selfId }: { users: AdminUser[]; selfId: string }) {
  return (
    <DataTable caption="Users" columns={["Email", "Name", "Role", "Status", "Workspaces", "Created", { label: "Actions", hidden: true }]}>
      {users.map((u) => (
        <UserRow key={u.id} user={u} isSelf={u.id === selfId} />
      ))}
    </DataTable>
  );
}
