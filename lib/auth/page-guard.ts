import { redirect } from "next/navigation";
import { currentUser, type Caller } from "./caller";

/** For pages: the signed-in user, or a redirect to the login page that comes back to `path`. */
export async function requirePageUser(path: string): Promise<Caller> {
  const user = await currentUser();
  if (!user) redirect(`/login?next=${encodeURIComponent(path)}`);
  return user;
}
