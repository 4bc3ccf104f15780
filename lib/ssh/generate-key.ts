import ssh2 from "ssh2";

const { utils } = ssh2;

/**
 * A new ed25519 key pair in OpenSSH format. ssh2 1.17's generateKeyPairSync drops a leading zero byte of the public
 * key (a 31-byte key, about 1 pair in 200), which its own parseKey then refuses ("Malformed OpenSSH private key", and
 * the public line too); such a pair is thrown away and another made. Keys from ssh-keygen are not affected.
 */
export function generateEd25519(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519");
    const priv = utils.parseKey(pair.private);
    const pub = utils.parseKey(pair.public);
    if (!(priv instanceof Error) && !(pub instanceof Error)) return pair;
  }
  throw new Error("could not generate an ed25519 key that parses");
}
