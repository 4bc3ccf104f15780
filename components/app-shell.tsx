import Link from "next/link";
import type { Caller } from "@/lib/auth/caller";
import { NavLink } from "./nav-link";
import { SignOutButton } from "./sign-out-button";

const ADMIN_LINKS = [
  { href: "/admin/quotas", label: "Quotas" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/gpus", label: "GPUs" },
  { href: "/admin/images", label: "Images" },
  { href: "/admin/workspaces", label: "All workspaces" },
  { href: "/admin/usage", label: "All usage" },
  { href: "/admin/audit", label: "Audit log" },
  { href: "/admin/settings", label: "Host settings" },
];

export function AppShell({ user, children }: { user: Caller; children: React.ReactNode }) {
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded-md focus:bg-white focus:px-3 focus:py-2 focus:shadow">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3">
          <Link href="/" className="flex items-center gap-2 text-lg font-semibold text-brand-700">
            <img src="/favicon.svg" alt="" width={24} height={24} className="h-6 w-6" />
            Gantry
          </Link>
          <div className="order-2 ml-auto flex items-center gap-3 text-sm lg:order-3">
            <span className="hidden max-w-[12rem] truncate text-slate-600 sm:inline" title={user.email}>
              {user.name}
              {user.role === "admin" && <span className="ml-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">admin</span>}
            </span>
            <SignOutButton />
          </div>
          <div className="order-3 -mx-2 flex w-full flex-wrap items-center gap-x-4 gap-y-1 text-sm lg:order-2 lg:mx-0 lg:w-auto">
            <nav aria-label="Main" className="flex flex-wrap gap-1">
              <NavLink href="/">My workspaces</NavLink>
              <NavLink href="/usage">Usage</NavLink>
              <NavLink href="/settings">Settings</NavLink>
            </nav>
            {user.role === "admin" && (
              <nav aria-label="Admin" className="flex flex-wrap gap-1 border-slate-200 lg:border-l lg:pl-3">
                {ADMIN_LINKS.map((l) => (
                  <NavLink key={l.href} href={l.href}>{l.label}</NavLink>
                ))}
              </nav>
            )}
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}

export function ForbiddenPage() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">403 — Forbidden</h1>
      <p className="mt-2 text-slate-600">This page is for administrators only.</p>
      <p className="mt-6">
        <Link href="/" className="text-brand-700 underline hover:text-brand-600">Back to my workspaces</Link>
      </p>
    </div>
  );
}

/** The heading and short explanation at the top of every page. */
export function PageHeader({ title, description, children }: { title: string; description?: string; children?: React.ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-semibold">{title}</h1>
        {description && <p className="mt-1 max-w-2xl text-sm text-slate-600">{description}</p>}
      </div>
      {children}
    </div>
  );
}
