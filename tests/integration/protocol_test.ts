// RESP protocol over a real socket: inline, multibulk, pipelining and protocol errors.
import assert from "node:assert/strict";
import { withServer } from "../helpers.ts";

Deno.test("inline and multibulk PING, pipelined in one write", async () => {
  await withServer(async (c) => {
    await c.writeRaw("PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\na\xffb\r\n");
    assert.equal(await c.readRaw(300), "+PONG\r\n+PONG\r\n$3\r\na\xffb\r\n");
  });
});

Deno.test("unknown command error text matches Redis", async () => {
  await withServer(async (c) => {
    const r = await c.call("foo", "bar", "baz");
    assert.ok(r instanceof Error);
    assert.equal(r.message, "ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ");
  });
});

Deno.test("protocol errors reply with Redis's text and close the connection", async () => {
  const cases: [string, string][] = [
    ["*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"],
    ['SET "foo bar\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
  ];
  await withServer(async (_c, s) => {
    for (const [input, expected] of cases) {
      const c = await s.client();
      await c.writeRaw(input);
      assert.equal(await c.readRaw(300), expected, `input ${JSON.stringify(input)}`);
      assert.ok(await c.closedByPeer(500), "connection closed after protocol error");
      c.close();
    }
  });
});

Deno.test("too big inline request is refused, not buffered without bound", async () => {
  await withServer(async (c) => {
    await c.writeRaw("x".repeat(70 * 1024));
    assert.equal(await c.readRaw(500), "-ERR Protocol error: too big inline request\r\n");
  });
});
