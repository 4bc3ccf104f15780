import { forbidden } from "next/navigation";
import type { Caller } from "@/lib/auth/caller";
import { requirePageUser } from "@/lib/auth/page-guard";

/**
 * For every /admin page, checked in the page itself (never only in navigation or middleware): anonymous visitors go
 * to the login page, signed-in non-admins get app/forbidden.tsx with HTTP status 403.
 */
export async function requireAdminPage(path: string): Promise<Caller> {
  const user = await requirePageUser(path);
  if (user.role !== "admin") forbidden();
  return user;
}
