import { describe, expect, it } from "vitest";
import { checkPublicKey } from "./ssh-public-key";

// Keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID99luwKbYJlzzRXZWwkoByHdQaj2Mw81GG3dJvIb2/D alice@laptop";
const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGhU5lSe0aOOch3QyfFpi5J1tOpT36NoxGTdtDyuj83AgS0CggRRyXnvPUWTEQ5nmx7itGVSU//Ebq7Vg4QjHKk= root@vm";
const RSA_2048 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDkv2tDw54lKfCcl2CgEr6pUMs6omJH5Z3CU2YNlv1V1HDJe8Cqv/FLiEC2L1ghj3brOGTRF29+QIFELYXKnYUDu/jvqpyAhKtGVYyqJX7X/jqp+LeuAr0e6P3iJDVQBZenWicrMyABqkOhJmBdPfBkK/G8lEUrflhRbGIWv5xzSDE6VopZ823b+3IZd3XTo9Fw+YPhDgrIoqnKFpY5cVRO4bD3UC0k+9oe/OP/GFO07BDWYcMpLpg9fmcssNZTMUjaRud+lIvj4I1tDMXb+k6DpwoPjEiftrJHIV7Xj/OLsyDxDxciIUCahiwKK2wXpMG5CfjAmPJh1gtYLr7mPBg/ root@vm";
const RSA_1024 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDZ3tt571w/2ceagZWhNhtZb9GQ2qwm5uP0icQdinvjN2iALQewU1okZh42snYtA9yqSpcWzJrbJtynn+Yf2HPGYpuxm0l3yLVGqQc0n66MZ0GERWW1SZM0Oren10NjG31SmgTXt8Q8oQqH/H0usZFwk/FPBYGKkxhg1BiCsERJKw== root@vm";

function reason(text: string): string {
  const r = checkPublicKey(text);
  if (r.ok) throw new Error("accepted");
  return r.reason;
}

describe("checkPublicKey", () => {
  it("accepts ed25519, ecdsa and rsa 2048 with ssh-keygen's SHA256 fingerprint", () => {
    const cases: [string, string, string][] = [
      [ED25519, "ssh-ed25519", "SHA256:XYROfgAkWSoFRJ2HrVvj2WDoUEaZimrSusiqKJhSt3Y"],
      [ECDSA, "ecdsa-sha2-nistp256", "SHA256:Eox0vAYJaDwUKNqjKms54MzKRNeFLAiSVr0wU7r8es8"],
      [RSA_2048, "ssh-rsa", "SHA256:IpIai9IRJcO3JRZYLZvcKU9HLuh8ZsiMJxMC4IcHg/4"],
    ];
    for (const [text, type, fingerprint] of cases) {
      const r = checkPublicKey("  " + text + "\n");
      expect(r.ok && { type: r.key.type, fingerprint: r.key.fingerprint }).toEqual({ type, fingerprint });
    }
  });

  it("keeps the comment apart and stores the key without it", () => {
    const r = checkPublicKey(ED25519);
    expect(r.ok && r.key.comment).toBe("alice@laptop");
    expect(r.ok && r.key.publicKey).toBe(ED25519.split(" ").slice(0, 2).join(" "));
  });

  it("refuses rsa under 2048 bits, saying how many it has", () => {
    expect(reason(RSA_1024)).toMatch(/1024 bits.*at least 2048/);
  });

  it("refuses dsa, unknown types and garbage", () => {
    expect(reason("ssh-dss AAAAB3NzaC1kc3MAAACBAP== old")).toMatch(/DSA/);
    expect(reason("sk-ssh-ed25519@openssh.com AAAA x")).toMatch(/not accepted/);
    expect(reason("hello world")).toMatch(/not an OpenSSH public key/);
    expect(reason("ssh-ed25519 AAAAnotbase64!!")).toMatch(/could not be read/);
    expect(reason("ssh-ed25519")).toMatch(/missing/);
    expect(reason("")).toMatch(/empty/);
    expect(reason("ssh-rsa " + ED25519.split(" ")[1])).toMatch(/could not be read/);
  });

  it("refuses a pasted private key", () => {
    expect(reason("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----")).toMatch(/private key/);
  });

  it("refuses authorized_keys options and several lines", () => {
    expect(reason('command="ls" ' + ED25519)).toMatch(/Options/);
    expect(reason("restrict " + ED25519)).toMatch(/Options/);
    expect(reason(ED25519 + "\n" + ECDSA)).toMatch(/one line/);
  });
});
