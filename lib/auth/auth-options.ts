import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { db } from "../db/client";
import { authSecret } from "./secret";
import { verifyPassword } from "./password";
import { clientAddress } from "./client-address";
import { loginThrottle, recordLoginFailure, recordLoginSuccess } from "./login-throttle";
import { recordAudit } from "../audit/record-audit";
import { publish } from "../events/bus";
import { SESSION_MAX_AGE_S, newSessionClaims, revokeSession } from "./session-revocation";

// Bounded before anything else happens: an oversized value is never hashed, looked up or logged.
const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().min(3).max(254),
  password: z.string().min(1).max(256),
});

export { SESSION_MAX_AGE_S };

export function authOptions(): NextAuthOptions {
  return {
    secret: authSecret(),
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, req) {
          const parsed = credentialsSchema.safeParse(credentials ?? {});
          if (!parsed.success) return null;
          const { email, password } = parsed.data;
          const address = clientAddress(req?.headers ?? {});
          const throttle = await loginThrottle(email, address);
          if (throttle) {
            await recordAudit(db(), { actor: null, action: "auth.sign_in_throttled", targetType: "account", targetId: email, after: { email, address, limit: throttle } });
            throw new Error("Too many failed sign-in attempts. Wait 15 minutes and try again.");
          }
          const user = await db().user.findUnique({ where: { email } });
          const ok = await verifyPassword(password, user?.passwordHash);
          if (!user || !ok || user.disabled) {
            await recordLoginFailure(email, address);
            const reason = !user ? "unknown account" : !ok ? "wrong password" : "account disabled";
            await recordAudit(db(), { actor: null, action: "auth.sign_in_failed", targetType: "account", targetId: email, after: { email, address, reason } });
            return null;
          }
          await recordLoginSuccess(email, address);
          return { id: user.id, email: user.email, name: user.name, epoch: user.sessionEpoch };
        },
      }),
    ],
    events: {
      // Signing out ends this session on the server too: a copy of the cookie stops working with the original.
      async signOut({ token }) {
        if (!token) return;
        await revokeSession(token);
        // The proxy drops what it knows of this user's sessions: their workspace pages and sockets end too.
        if (typeof token.sub === "string") publish({ type: "user-changed", userId: token.sub });
      },
    },
    callbacks: {
      async jwt({ token, user }) {
        if (user) {
          token.sub = user.id;
          token.epoch = (user as { epoch?: number }).epoch ?? 0;
          Object.assign(token, newSessionClaims());
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, user: { ...session.user, id: token.sub, epoch: token.epoch, sid: token.sid, authTime: token.authTime } };
      },
      async redirect({ url, baseUrl }) {
        return safeRedirect(url, baseUrl);
      },
    },
  };
}

/** Keeps post-login redirects on this site: anything that is not a plain same-origin path goes to "/". */
export function safeRedirect(url: string, baseUrl: string): string {
  try {
    const base = new URL(baseUrl);
    const target = new URL(url, base);
    if (target.origin !== base.origin) return baseUrl;
    const raw = url.startsWith(base.origin) ? url.slice(base.origin.length) : url;
    if (!raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\") || /[\\\u0000-\u001f]/.test(raw)) return baseUrl;
    return target.toString();
  } catch {
    return baseUrl;
  }
}
