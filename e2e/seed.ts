// The accounts e2e/global-setup.ts creates: the first admin (from ADMIN_EMAIL/ADMIN_PASSWORD on first start) and
// a regular user made with `npx gantry user create`.

export const ADMIN = { email: "admin@e2e.gantry.test", password: "e2e-admin-password-1" };
export const USER = { email: "user@e2e.gantry.test", password: "e2e-user-password-1", name: "E2E User" };

/** A unique, valid email for accounts a single test makes for itself. */
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@e2e.gantry.test`;
}
