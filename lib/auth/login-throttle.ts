import { RateLimiterMemory } from "rate-limiter-flexible";

// Failed logins are counted per account and per client address; either one over its budget blocks the attempt
// before the password is even checked. A success clears the account's counter.
const perAccount = new RateLimiterMemory({ keyPrefix: "login-account", points: 5, duration: 15 * 60 });
const perAddress = new RateLimiterMemory({ keyPrefix: "login-address", points: 30, duration: 15 * 60 });

export async function isLoginBlocked(email: string, address: string): Promise<boolean> {
  const [a, b] = await Promise.all([perAccount.get(email.toLowerCase()), perAddress.get(address)]);
  return (a?.consumedPoints ?? 0) >= 5 || (b?.consumedPoints ?? 0) >= 30;
}

export async function recordLoginFailure(email: string, address: string): Promise<void> {
  await Promise.all([
    perAccount.penalty(email.toLowerCase(), 1),
    perAddress.penalty(address, 1),
  ]);
}

export async function recordLoginSuccess(email: string): Promise<void> {
  await perAccount.delete(email.toLowerCase());
}
