import Link from "next/link";
import type { Caller } from "@/lib/auth/caller";
import { SignOutButton } from "./sign-out-button";

const ADMIN_LINKS = [
  { href: "/admin/quotas", label: "Quotas" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/gpus", label: "GPUs" },
  { href: "/admin/images", label: "Images" },
  { href: "/admin/workspaces", label: "All workspaces" },
  { href: "/admin/audit", label: "Audit log" },
];

export function AppShell({ user, children }: { user: Caller; children: React.ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link href="/" className="text-lg font-semibold text-brand-700">Gantry</Link>
          <nav aria-label="Main" className="flex flex-wrap gap-4 text-sm">
            <Link href="/" className="hover:underline">My workspaces</Link>
            <Link href="/settings" className="hover:underline">Settings</Link>
          </nav>
          {user.role === "admin" && (
            <nav aria-label="Admin" className="flex flex-wrap gap-4 text-sm text-slate-600">
              {ADMIN_LINKS.map((l) => (
                <Link key={l.href} href={l.href} className="hover:underline">{l.label}</Link>
              ))}
            </nav>
          )}
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="text-slate-600" title={user.email}>{user.name}</span>
            <SignOutButton />
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}

export function ForbiddenPage() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">403 — Forbidden</h1>
      <p className="mt-2 text-slate-600">This page is for administrators only.</p>
    </div>
  );
}
