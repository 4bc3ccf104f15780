import { RateLimiterMemory } from "rate-limiter-flexible";

// Failed sign-ins are counted per (account, client address) and per client address. Either one over its budget refuses
// the attempt before the password is checked. There is deliberately no count per account alone: five bad passwords
// from anywhere would then lock the account for everyone, its only admin included (a denial of service anyone can
// run). Guessing one account from many addresses is slowed by bcrypt and by each address's own budget.
export const PAIR_LIMIT = 5;
export const ADDRESS_LIMIT = 30;
const WINDOW_S = 15 * 60;
const perPair = new RateLimiterMemory({ keyPrefix: "login-pair", points: PAIR_LIMIT, duration: WINDOW_S });
const perAddress = new RateLimiterMemory({ keyPrefix: "login-address", points: ADDRESS_LIMIT, duration: WINDOW_S });

function pair(email: string, address: string): string {
  return `${email.toLowerCase()}|${address}`;
}

/** Which budget is spent, if any: "account-address" (this account from this address) or "address" (this address). */
export async function loginThrottle(email: string, address: string): Promise<"account-address" | "address" | null> {
  const [p, a] = await Promise.all([perPair.get(pair(email, address)), perAddress.get(address)]);
  if ((p?.consumedPoints ?? 0) >= PAIR_LIMIT) return "account-address";
  if ((a?.consumedPoints ?? 0) >= ADDRESS_LIMIT) return "address";
  return null;
}

export async function recordLoginFailure(email: string, address: string): Promise<void> {
  await Promise.all([perPair.penalty(pair(email, address), 1), perAddress.penalty(address, 1)]);
}

/** A success clears this account's count from this address (the address's own count stays). */
export async function recordLoginSuccess(email: string, address: string): Promise<void> {
  await perPair.delete(pair(email, address));
}
