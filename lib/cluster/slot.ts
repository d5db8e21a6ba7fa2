// Hash slots: CRC16/XMODEM of the key (or of its {hash tag}) modulo 16384, as Redis Cluster.

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let j = 0; j < 8; j++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    t[i] = crc;
  }
  return t;
})();

/** CRC16 (XMODEM polynomial 0x1021) of a latin1 string's bytes in [from, to). */
export function crc16(s: string, from = 0, to = s.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff];
  }
  return crc;
}

/** The hash slot of a key, honouring the first non-empty {tag}. */
export function keyHashSlot(key: string): number {
  const open = key.indexOf("{");
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close !== -1 && close !== open + 1) return crc16(key, open + 1, close) & 16383;
  }
  return crc16(key) & 16383;
}
