import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/page-guard";
import { safeNextPath } from "@/lib/auth/safe-next";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(typeof params.next === "string" ? params.next : typeof params.callbackUrl === "string" ? params.callbackUrl : "/");
  if (await currentUser()) redirect(next);
  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 flex items-center gap-2 text-2xl font-semibold">
          <img src="/favicon.svg" alt="" width={28} height={28} className="h-7 w-7" />
          Gantry
        </h1>
        <p className="mb-6 text-sm text-slate-600">Sign in to your GPU workspaces.</p>
        <LoginForm next={next} />
      </div>
    </main>
  );
}
