import type { Metadata } from "next";
import { AppShell, ForbiddenPage } from "@/components/app-shell";
import { currentUser } from "@/lib/auth/page-guard";

export const metadata: Metadata = { title: "Forbidden" };

// Rendered, with HTTP status 403, wherever a page calls forbidden() (every /admin page, for non-admins).
export default async function Forbidden() {
  const user = await currentUser();
  if (!user) {
    return (
      <main className="mx-auto max-w-6xl px-4 py-6">
        <ForbiddenPage />
      </main>
    );
  }
  return (
    <AppShell user={user}>
      <ForbiddenPage />
    </AppShell>
  );
}
