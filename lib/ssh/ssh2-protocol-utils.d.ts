// ssh2's own packet helpers (not in @types/ssh2), used to send a per-attempt USERAUTH_BANNER (lib/ssh/ssh-gateway.ts).
declare module "ssh2/lib/protocol/utils.js" {
  const utils: {
    sendPacket(protocol: unknown, packet: Buffer, bypass?: boolean): void;
    writeUInt32BE(buf: Buffer, value: number, offset: number): number;
  };
  export default utils;
}
