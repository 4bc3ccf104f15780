import { AppShell } from "@/components/app-shell";
import { requirePageUser } from "@/lib/auth/page-guard";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const user = await requirePageUser("/");
  return (
    <AppShell user={user}>
      <h1 className="text-2xl font-semibold">My workspaces</h1>
      <p className="mt-2 text-slate-600">No workspaces yet.</p>
    </AppShell>
  );
}
