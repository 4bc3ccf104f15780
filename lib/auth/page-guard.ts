import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { sessionFromCookies, type Caller } from "./caller";

// For pages and server components only (next/headers): the server bundle (dist/server.mjs) never loads this file.

/**
 * The signed-in user, or null: the session cookie read as every request reads it. (next-auth's getServerSession
 * would also encrypt a refreshed cookie on every page, which a Server Component cannot set anyway.)
 */
export async function currentUser(): Promise<Caller | null> {
  const jar = await cookies();
  const session = await sessionFromCookies(Object.fromEntries(jar.getAll().map((c) => [c.name, c.value])));
  return session?.caller ?? null;
}

/** For pages: the signed-in user, or a redirect to the login page that comes back to `path`. */
export async function requirePageUser(path: string): Promise<Caller> {
  const user = await currentUser();
  if (!user) redirect(`/login?next=${encodeURIComponent(path)}`);
  return user;
}
