// Client sockets on both transports: the epoll loop (lib/server/epoll.ts, the default on Linux)
// and Deno's sockets (TSREDIS_IO=deno, used elsewhere): replies larger than the socket buffer
// reach slow readers whole while other clients are served, pipelines split across reads, peer
// addresses, CLIENT KILL and CLIENT PAUSE.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RespClient, startServer } from "../helpers.ts";
import type { StartOptions } from "../helpers.ts";
import { formatIPv6, parseIPv4, parseIPv6 } from "../../lib/server/epoll.ts";

const TRANSPORTS: [string, StartOptions][] = [
  ["epoll loop", {}],
  ["Deno sockets", { env: { TSREDIS_IO: "deno" } }],
];

/** Reads until `total` bytes arrived (15 s at most); returns them. */
async function readBytes(conn: Deno.Conn, total: number): Promise<Uint8Array> {
  const out = new Uint8Array(total);
  let got = 0;
  const timer = setTimeout(() => conn.close(), 15000);
  try {
    while (got < total) {
      const n = await conn.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
  } catch {
    /* closed by the timer */
  } finally {
    clearTimeout(timer);
  }
  if (got < total) throw new Error(`got ${got} of ${total} bytes`);
  return out;
}

for (const [name, opts] of TRANSPORTS) {
  Deno.test(`${name}: a 32 MB pipelined reply reaches a slow reader whole; others are served meanwhile`, async () => {
    const s = await startServer(opts);
    const c = await s.client();
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    try {
      // 8 MB of a repeating pattern, so a misplaced or repeated chunk shows.
      const value = Buffer.alloc(8 * 1024 * 1024);
      for (let i = 0; i < value.length; i++) value[i] = 97 + ((i * 7 + (i >> 13)) % 26);
      const v = value.toString("latin1");
      assert.equal(await c.call("SET", "big", v), "OK");
      const req = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(4) + "*1\r\n$4\r\nPING\r\n";
      await raw.write(new TextEncoder().encode(req));
      // The reader stays away while the server holds most of 32 MB it could not write yet.
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 20; i++) assert.equal(await c.call("INCR", "n"), i + 1);
      const head = `$${value.length}\r\n`;
      const one = head.length + value.length + 2;
      const got = await readBytes(raw, 4 * one + 7);
      for (let k = 0; k < 4; k++) {
        const part = Buffer.from(got.subarray(k * one, (k + 1) * one));
        assert.equal(part.subarray(0, head.length).toString("latin1"), head);
        assert.ok(part.subarray(head.length, head.length + value.length).equals(value));
        assert.equal(part.subarray(one - 2).toString("latin1"), "\r\n");
      }
      assert.equal(Buffer.from(got.subarray(4 * one)).toString("latin1"), "+PONG\r\n");
    } finally {
      try {
        raw.close();
      } catch { /* closed by readBytes */ }
      c.close();
      await s.stop();
    }
  });

  Deno.test(`${name}: commands split across reads and many clients at once`, async () => {
    const s = await startServer(opts);
    try {
      const clients = await Promise.all(Array.from({ length: 40 }, () => s.client()));
      // Each client writes a pipeline one byte at a time for its first command, then the rest.
      await Promise.all(clients.map(async (c, i) => {
        const req = `*3\r\n$3\r\nSET\r\n$2\r\nk${i % 10}\r\n$${String(i).length}\r\n${i}\r\n` +
          `*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n`.repeat(50);
        const bytes = Buffer.from(req, "latin1");
        for (let j = 0; j < 30; j++) await c.writeRaw(bytes.subarray(j, j + 1));
        await c.writeRaw(bytes.subarray(30));
        assert.equal(await c.read(), "OK");
        for (let j = 0; j < 50; j++) assert.equal(typeof await c.read(), "number");
      }));
      assert.equal(await clients[0].call("GET", "counter"), String(40 * 50));
      for (const c of clients) c.close();
    } finally {
      await s.stop();
    }
  });

  Deno.test(`${name}: CLIENT INFO shows the peer and local addresses, IPv4 and IPv6`, async () => {
    let v6 = true;
    try {
      Deno.listen({ hostname: "::1", port: 0 }).close();
    } catch {
      v6 = false;
    }
    const s = await startServer({ ...opts, args: ["--bind", "127.0.0.1", ...(v6 ? ["::1"] : [])] });
    try {
      for (const host of v6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"]) {
        const c = await RespClient.connect(s.port, host);
        const local = c.conn.localAddr as Deno.NetAddr;
        const fmt = (h: string, p: number) => (h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`);
        const info = await c.call("CLIENT", "INFO") as string;
        assert.ok(
          info.includes(`addr=${fmt(local.hostname, local.port)} laddr=${fmt(host, s.port)} `),
          info,
        );
        assert.match(info, / fd=\d+ /);
        c.close();
      }
    } finally {
      await s.stop();
    }
  });

  Deno.test(`${name}: CLIENT KILL closes the socket; CLIENT PAUSE holds writes, not reads`, async () => {
    const s = await startServer(opts);
    const a = await s.client();
    const b = await s.client();
    try {
      const id = await b.call("CLIENT", "ID");
      assert.equal(await a.call("CLIENT", "KILL", "ID", String(id)), 1);
      assert.equal(await b.readRaw(1000), ""); // closed by the server
      const w = await s.client();
      assert.equal(await a.call("CLIENT", "PAUSE", "400", "WRITE"), "OK");
      const t0 = Date.now();
      assert.equal(await w.call("GET", "x"), null);
      assert.ok(Date.now() - t0 < 300, "reads are not paused");
      assert.equal(await w.call("SET", "x", "1"), "OK");
      assert.ok(Date.now() - t0 >= 350, `the write waited for the pause (${Date.now() - t0} ms)`);
      assert.equal(await w.call("GET", "x"), "1");
      w.close();
    } finally {
      a.close();
      b.close();
      await s.stop();
    }
  });
}

/** Polls CLIENT LIST (2 s at most) until no client is named `name`; whether that happened. */
async function leftClientList(c: RespClient, name: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (!(await c.call("CLIENT", "LIST") as string).includes(`name=${name}`)) return true;
  }
  return false;
}

Deno.test("epoll loop: a client that hangs up while its command waits for CLIENT PAUSE is closed at once", async () => {
  const s = await startServer();
  const a = await s.client();
  try {
    const b = await s.client();
    await b.call("CLIENT", "SETNAME", "leaver");
    assert.equal(await a.call("CLIENT", "PAUSE", "5000", "WRITE"), "OK");
    await b.send("SET", "k", "v");
    await new Promise((r) => setTimeout(r, 100));
    assert.match(await a.call("CLIENT", "LIST") as string, /name=leaver/);
    b.close();
    // Redis keeps reading a postponed client, so it sees the hang-up during the pause.
    assert.ok(await leftClientList(a, "leaver"), "the client left CLIENT LIST during the pause");
    assert.equal(await a.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await a.call("GET", "k"), null, "the hung-up client's SET never ran");
  } finally {
    a.close();
    await s.stop();
  }
});

Deno.test("epoll loop: the query buffer limit applies while a command waits for CLIENT PAUSE", async () => {
  const s = await startServer({ args: ["--client-query-buffer-limit", "1mb"] });
  const a = await s.client();
  try {
    const b = await s.client();
    await b.call("CLIENT", "SETNAME", "flooder");
    assert.equal(await a.call("CLIENT", "PAUSE", "5000", "WRITE"), "OK");
    await b.send("SET", "k", "v");
    // Then the start of a 3 MB argument, 1.5 MB of it: more unparsed input than the limit.
    await b.writeRaw("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$3000000\r\n" + "z".repeat(1500000));
    assert.ok(await leftClientList(a, "flooder"), "the client was closed during the pause");
    assert.match(s.output, /Closing client that reached max query buffer length/);
    b.close();
  } finally {
    a.close();
    await s.stop();
  }
});

Deno.test("epoll loop: a listener on a host name (not an IP literal) accepts clients", async () => {
  const s = await startServer({ args: ["--bind", "localhost"] });
  try {
    const c = await RespClient.connect(s.port, "localhost");
    assert.equal(await c.call("SET", "k", "v"), "OK");
    assert.equal(await c.call("GET", "k"), "v");
    const local = c.conn.localAddr as Deno.NetAddr;
    const info = await c.call("CLIENT", "INFO") as string;
    assert.ok(info.includes(`addr=${local.hostname}:${local.port} `), info);
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("IPv6 text: parse and format as inet_pton / inet_ntop do", () => {
  const cases: [string, string][] = [
    ["::1", "::1"],
    ["::", "::"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["FE80::0202:B3FF:FE1E:8329", "fe80::202:b3ff:fe1e:8329"],
  ];
  for (const [input, text] of cases) {
    const b = parseIPv6(input);
    assert.ok(b !== null, input);
    assert.equal(formatIPv6(b), text, input);
  }
  for (
    const bad of [
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "g::1",
      "1:2:3:4:5:6:7",
      "fe80::1%eth0",
    ]
  ) {
    assert.equal(parseIPv6(bad), null, bad);
  }
  assert.deepEqual([...parseIPv4("10.0.0.255")!], [10, 0, 0, 255]);
  for (const bad of ["256.0.0.1", "1.2.3", "a.b.c.d", "1.2.3.4.5"]) {
    assert.equal(parseIPv4(bad), null);
  }
});
