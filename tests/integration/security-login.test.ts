import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CookieJar } from "../helpers/http-session";
import { SETUP_TIMEOUT_MS, expectErrorShape, expectNoSecrets, rand, serverLog, startSecurityEnv, type LoginResult, type Principal, type SecurityEnv } from "../helpers/security";

// Sign-in through next-auth's real credentials flow: throttled per (account, client address) and per client address —
// never per account alone, so nobody can lock another person out — with every failure and throttle audited; forwarding headers
// believed only from a configured proxy, oversized values refused without reaching the log, and a new session id
// at every sign-in. The throttle lives in the server's memory, so each describe block has a server of its own.

const PAIR_LIMIT = 5;
const ADDRESS_LIMIT = 30;

function throttled(r: LoginResult): boolean {
  return decodeURIComponent(r.url ?? "").includes("Too many failed sign-in attempts");
}

function ip(n: number): string {
  return `198.18.${(n >> 8) & 255}.${n & 255}`;
}

describe("without a trusted proxy (GANTRY_TRUSTED_PROXIES unset)", () => {
  let env: SecurityEnv;
  let alice: Principal;
  let bob: Principal;
  let carol: Principal;
  let dave: Principal;
  /** Failed sign-ins this server has counted against 127.0.0.1 (every attempt here comes from it). */
  let failures = 0;
  let n = 0;

  beforeAll(async () => {
    env = await startSecurityEnv({ prefix: "gantry-sec-login-" });
    alice = await env.createUser("alice");
    bob = await env.createUser("bob");
    carol = await env.createUser("carol");
    dave = await env.createUser("dave");
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await env?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it("a wrong password and an unknown account are answered alike", async () => {
    const wrong = await env.login(bob.email, "not-his-password");
    const unknown = await env.login(`nobody-${rand()}@gantry.test`, "not-his-password");
    failures += 2;
    expect(wrong.ok).toBe(false);
    expect(unknown.ok).toBe(false);
    expect({ status: unknown.status, url: unknown.url }).toEqual({ status: wrong.status, url: wrong.url });
  });

  it("the session cookie is new at every sign-in (a planted or someone else's cookie is replaced)", async () => {
    const planted = new CookieJar();
    const fixed = `planted-${rand(16)}`;
    planted.store(new Response(null, { headers: { "set-cookie": `next-auth.session-token=${fixed}; Path=/` } }));
    const first = await env.login(carol.email, carol.password, { jar: planted });
    expect(first.ok).toBe(true);
    expect(first.cookie).not.toBe(fixed);

    // Bob's valid session in the jar: signing in as carol replaces it, and the jar is carol's from then on.
    const bobs = /next-auth\.session-token=([^;]+)/.exec(bob.jar.header())![1];
    const shared = new CookieJar();
    shared.store(new Response(null, { headers: { "set-cookie": `next-auth.session-token=${bobs}; Path=/` } }));
    const second = await env.login(carol.email, carol.password, { jar: shared });
    expect(second.ok).toBe(true);
    expect(second.cookie).not.toBe(bobs);
    expect((await env.req("/api/me", { jar: shared })).body.id).toBe(carol.id);

    const third = await env.login(carol.email, carol.password);
    expect(third.cookie).not.toBe(first.cookie);
    expect(third.cookie).not.toBe(second.cookie);
  });

  it("an oversized email (10 000 characters) and password are refused, and never reach the log", async () => {
    const marker = `OVERSIZED${rand(6)}`;
    const email = `${marker}${"e".repeat(10_000)}@gantry.test`;
    const password = `${marker}PW${"p".repeat(10_000)}`;
    const t0 = Date.now();
    const res = await env.login(email, password);
    expect(res.ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const alsoLong = await env.login(alice.email, password);
    expect(alsoLong.ok).toBe(false);
    // The same values through the API: a 422 that does not echo them.
    const api = await env.req("/api/admin/users", { token: env.admin.token, json: { email, password, name: marker } });
    expectErrorShape(api, 422, "validation_failed");
    expect(api.text).not.toContain(marker);
    expect(api.text.length).toBeLessThan(2000);
    const log = serverLog(env);
    expect(log).not.toContain(marker);
    expect(log).not.toContain("e".repeat(100));
    expect(log).not.toContain("p".repeat(100));
  });

  it("per (account, address): after 5 failures from here even the right password is refused here; other accounts are not affected", async () => {
    for (let i = 0; i < PAIR_LIMIT; i++) {
      const r = await env.login(alice.email, `wrong-${i}`);
      failures++;
      expect(r.ok).toBe(false);
      expect(throttled(r)).toBe(false);
    }
    const right = await env.login(alice.email, alice.password);
    expect(right.ok).toBe(false);
    expect(throttled(right), right.url ?? "").toBe(true);
    // Case and spaces do not make it another account.
    const shouted = await env.login(`  ${alice.email.toUpperCase()} `, alice.password);
    expect(shouted.ok).toBe(false);
    expect(throttled(shouted)).toBe(true);
    // Her existing session and token are not signed out by someone guessing.
    expect((await env.req("/api/me", { jar: alice.jar })).status).toBe(200);
    expect((await env.req("/api/me", { token: alice.token })).status).toBe(200);
    const other = await env.login(bob.email, bob.password);
    expect(other.ok).toBe(true);
  });

  it("per address, with X-Forwarded-For ignored: failures from many 'forwarded' addresses all count against the peer", async () => {
    expect(failures).toBeLessThan(ADDRESS_LIMIT - 1);
    while (failures < ADDRESS_LIMIT - 1) {
      const r = await env.login(`nobody-${rand()}@gantry.test`, "wrong", { headers: { "x-forwarded-for": ip(++n), "x-real-ip": ip(n) } });
      expect(r.ok).toBe(false);
      failures++;
    }
    // One short of the limit: dave, who never failed, still gets in.
    const before = await env.login(dave.email, dave.password, { headers: { "x-forwarded-for": ip(++n) } });
    expect(before.ok).toBe(true);
    const last = await env.login(`nobody-${rand()}@gantry.test`, "wrong", { headers: { "x-forwarded-for": ip(++n) } });
    expect(last.ok).toBe(false);
    failures++;
    // At the limit: the right password of an account that never failed, from a "new" forwarded address, is refused.
    const variants: Record<string, string>[] = [{ "x-forwarded-for": ip(++n) }, { "x-forwarded-for": `${ip(++n)}, ${ip(++n)}` }, { "x-real-ip": ip(++n) }, {}];
    for (const headers of variants) {
      const r = await env.login(dave.email, dave.password, { headers });
      expect(r.ok, JSON.stringify(headers)).toBe(false);
      expect(throttled(r)).toBe(true);
    }
  });

  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});

describe("behind a trusted proxy (GANTRY_TRUSTED_PROXIES=127.0.0.1)", () => {
  let env: SecurityEnv;
  let alice: Principal;
  let carol: Principal;
  let n = 1000;

  beforeAll(async () => {
    env = await startSecurityEnv({ prefix: "gantry-sec-login-proxy-", env: { GANTRY_TRUSTED_PROXIES: "127.0.0.1,::1" } });
    alice = await env.createUser("alice");
    carol = await env.createUser("carol");
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await env?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it("no lock-out as a service: failures against an account from one address do not keep its owner out from another", async () => {
    const attacker = ip(++n);
    for (let i = 0; i < PAIR_LIMIT; i++) {
      const r = await env.login(alice.email, `wrong-${i}`, { headers: { "x-forwarded-for": attacker } });
      expect(r.ok).toBe(false);
      expect(throttled(r)).toBe(false);
    }
    // The attacker's address is throttled for this account, even with the right password …
    const fromAttacker = await env.login(alice.email, alice.password, { headers: { "x-forwarded-for": attacker } });
    expect(fromAttacker.ok).toBe(false);
    expect(throttled(fromAttacker)).toBe(true);
    // … and alice, from her own address, signs in. So does a guess spread over many addresses: each has its own budget.
    const fromAlice = await env.login(alice.email, alice.password, { headers: { "x-forwarded-for": ip(++n) } });
    expect(fromAlice.ok).toBe(true);
    for (let i = 0; i < PAIR_LIMIT + 2; i++) {
      const r = await env.login(alice.email, `wrong-spread-${i}`, { headers: { "x-forwarded-for": ip(++n) } });
      expect(throttled(r)).toBe(false);
    }
    expect((await env.login(alice.email, alice.password, { headers: { "x-forwarded-for": ip(++n) } })).ok).toBe(true);
  });

  it("every failed sign-in and every throttled one is in the audit log, with the address it came from", async () => {
    const where = ip(++n);
    await env.login(carol.email, "wrong-for-the-audit", { headers: { "x-forwarded-for": where } });
    await env.login(`nobody-${rand()}@gantry.test`, "wrong", { headers: { "x-forwarded-for": where } });
    const audit = await env.req<{ events: { action: string; targetId: string | null; after: { email: string; address: string; reason?: string; limit?: string } | null }[] }>(
      "/api/admin/audit?pageSize=200",
      { token: env.admin.token },
    );
    const failed = audit.body.events.filter((e) => e.action === "auth.sign_in_failed" && e.after?.address === where);
    expect(failed.map((e) => e.after?.reason).sort()).toEqual(["unknown account", "wrong password"]);
    expect(failed.map((e) => e.after?.email)).toContain(carol.email);
    const throttledEvents = audit.body.events.filter((e) => e.action === "auth.sign_in_throttled");
    expect(throttledEvents.length).toBeGreaterThan(0);
    expect(throttledEvents[0].after).toMatchObject({ email: expect.any(String), address: expect.any(String), limit: expect.stringMatching(/^(account-address|address)$/) });
    // Never the password that was tried.
    expect(JSON.stringify(audit.body)).not.toContain("wrong-for-the-audit");
  });

  it("X-Forwarded-For is honoured: one client address is throttled, others are not", async () => {
    const attacker = "203.0.113.7";
    for (let i = 0; i < ADDRESS_LIMIT; i++) {
      const r = await env.login(`nobody-${rand()}@gantry.test`, "wrong", { headers: { "x-forwarded-for": attacker } });
      expect(r.ok).toBe(false);
    }
    const fromAttacker = await env.login(carol.email, carol.password, { headers: { "x-forwarded-for": attacker } });
    expect(fromAttacker.ok).toBe(false);
    expect(throttled(fromAttacker)).toBe(true);
    // A hop the client made up in front does not help: the proxy appended the real address last.
    const spoofed = await env.login(carol.email, carol.password, { headers: { "x-forwarded-for": `198.51.100.20, ${attacker}` } });
    expect(spoofed.ok).toBe(false);
    expect(throttled(spoofed)).toBe(true);
    // Trusted hops are skipped when walking back to the client.
    const viaTwoProxies = await env.login(carol.email, carol.password, { headers: { "x-forwarded-for": `${attacker}, 127.0.0.1` } });
    expect(viaTwoProxies.ok).toBe(false);

    const elsewhere = await env.login(carol.email, carol.password, { headers: { "x-forwarded-for": "198.51.100.9" } });
    expect(elsewhere.ok).toBe(true);
    const direct = await env.login(carol.email, carol.password);
    expect(direct.ok).toBe(true);
  });

  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
