import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEd25519 } from "./generate-key";

describe("generateEd25519", () => {
  it("only ever returns pairs whose both halves parse (ssh2 alone fails about 1 in 200)", () => {
    for (let i = 0; i < 1000; i++) {
      const pair = generateEd25519();
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
    }
  });
});
