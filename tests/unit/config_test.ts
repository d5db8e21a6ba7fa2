// Config parsing, CONFIG SET atomicity and error texts, CONFIG GET matching, CONFIG REWRITE
// content, and command-line grouping, without starting a server.
import assert from "node:assert/strict";
import { Config, ConfigFileError } from "../../lib/config/config.ts";
import { formatMemory, repr, rewriteContent } from "../../lib/config/rewrite.ts";
import { groupDirectives, parseCommandLine } from "../../lib/config/cli.ts";

Deno.test("CONFIG SET: Redis 7.0 error texts and first-error-wins order", () => {
  const c = new Config();
  assert.equal(
    c.setMany([["slave-read-only", "foo"]]),
    "CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'",
  );
  assert.equal(
    c.setMany([["SLAVE-READ-ONLY", "foo"]]),
    "CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'",
  );
  assert.equal(
    c.setMany([["port", "1"], ["port", "2"]]),
    "CONFIG SET failed (possibly related to argument 'port') - duplicate parameter",
  );
  assert.equal(
    c.setMany([["daemonize", "yes"]]),
    "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config",
  );
  assert.equal(
    c.setMany([["foo", "bar"]]),
    "Unknown option or number of arguments for CONFIG SET - 'foo'",
  );
  assert.equal(
    c.setMany([["maxmemory", "10"], ["foo", "bar"]]),
    "Unknown option or number of arguments for CONFIG SET - 'foo'",
  );
  assert.equal(
    c.setMany([["maxmemory", "abc"], ["hz", "5"]]),
    "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
  );
  assert.equal(
    c.setMany([["proto-max-bulk-len", "10"]]),
    "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive",
  );
  assert.equal(
    c.setMany([["maxclients", "0"]]),
    "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
  );
  assert.equal(
    c.setMany([["loglevel", "foo"]]),
    "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning",
  );
  assert.equal(
    c.setMany([["dir", "/tmp"]], false),
    "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
  );
  assert.equal(
    c.setMany([["save", "1 2 3"]]),
    "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
  );
});

Deno.test("CONFIG SET is all-or-nothing, hooks run once per changed value and are undone", () => {
  const c = new Config();
  const calls: string[] = [];
  c.onChange("hz", (v, old) => void calls.push(`hz ${old}->${v}`));
  c.onChange("maxmemory", (v) => (v === 5 ? "refused" : undefined));
  // The second value fails to parse: nothing changes and no hook runs.
  assert.notEqual(c.setMany([["hz", "20"], ["maxmemory", "x"]]), null);
  assert.equal(c.int("hz"), 10);
  assert.deepEqual(calls, []);
  // A hook refuses: every value is restored and the first hook is re-run with the old value.
  assert.equal(
    c.setMany([["hz", "20"], ["maxmemory", "5"]]),
    "CONFIG SET failed (possibly related to argument 'maxmemory') - refused",
  );
  assert.equal(c.int("hz"), 10);
  assert.equal(c.int("maxmemory"), 0);
  assert.deepEqual(calls, ["hz 10->20", "hz 20->10"]);
  // Success; setting an unchanged value does not run its hook.
  calls.length = 0;
  assert.equal(c.setMany([["hz", "10"], ["maxmemory", "1mb"]]), null);
  assert.deepEqual(calls, []);
  assert.equal(c.int("maxmemory"), 1048576);
  assert.equal(c.setMany([["maxmemory-clients", "5%"]]), null);
  assert.deepEqual(c.getMatching(["maxmemory-clients"]), [["maxmemory-clients", "5%"]]);
});

Deno.test("CONFIG GET: exact names keep the caller's spelling, globs cover aliases", () => {
  const c = new Config();
  assert.deepEqual(c.getMatching(["SLAVE-read-only"]), [["SLAVE-read-only", "yes"]]);
  assert.deepEqual(c.getMatching(["*read-only*"]), [["replica-read-only", "yes"], [
    "slave-read-only",
    "yes",
  ]]);
  assert.deepEqual(c.getMatching(["port", "bind", "port"]), [["port", "6379"], ["bind", "* -::*"]]);
  assert.deepEqual(c.getMatching(["nosuch"]), []);
  assert.deepEqual(c.getMatching(["dir"]), [["dir", Deno.cwd()]]);
  const mm = c.getMatching(["maxmemory*"]).map((p) => p[0]).sort();
  assert.deepEqual(mm, [
    "maxmemory",
    "maxmemory-clients",
    "maxmemory-eviction-tenacity",
    "maxmemory-policy",
    "maxmemory-samples",
  ]);
});

Deno.test("config file errors name the line and the reason", () => {
  const c = new Config();
  assert.throws(() => c.loadText("port 7000\nfoo bar\n", "x.conf"), (e: unknown) => {
    assert.ok(e instanceof ConfigFileError);
    assert.equal(e.line, 2);
    assert.equal(e.text, "foo bar");
    assert.equal(e.reason, "Bad directive or wrong number of arguments");
    assert.match(
      e.report("0.1.0"),
      /\*\*\* FATAL CONFIG FILE ERROR \(tsredis 0\.1\.0\) \*\*\*\nReading the configuration file x\.conf, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments/,
    );
    return true;
  });
  assert.throws(
    () => new Config().loadText("port abc"),
    /argument couldn't be parsed into an integer/,
  );
  assert.throws(() => new Config().loadText('requirepass "abc'), /Unbalanced quotes/);
});

Deno.test("CONFIG REWRITE content: in-place replacement, comments kept, new values appended", () => {
  const c = new Config();
  c.loadText("port 7777\nslave-read-only no\nmaxmemory 100mb\nhz 10\nsave 900 1\nsave 300 10\n");
  assert.equal(
    c.setMany([["maxmemory", "2gb"], ["requirepass", 'a"b c'], ["hz", "20"], ["timeout", "5"]]),
    null,
  );
  assert.equal(c.setMany([["client-output-buffer-limit", "pubsub 1mb 2 3"]]), null);
  const old = "# my comment\nport 7777\n\n# another\nslave-read-only no\nmaxmemory 100mb\nhz 10\n" +
    "save 900 1\nsave 300 10\n   loglevel   notice   \nbogus line here\ninclude /x.conf\n\n\nappendonly no\n" +
    "hz 11\n";
  const out = rewriteContent(c, old);
  const cwd = Deno.cwd();
  assert.equal(
    out,
    "# my comment\nport 7777\n\n# another\nreplica-read-only no\nmaxmemory 2gb\nhz 20\nsave 900 1\nsave 300 10\n" +
      "loglevel notice\n# ??? bogus line here\ninclude /x.conf\n\nappendonly no\n\n" +
      '# Generated by CONFIG REWRITE\nrequirepass "a\\"b c"\ntimeout 5\n' +
      `dir ${repr(cwd)}\nclient-output-buffer-limit pubsub 1mb 2 3\n`,
  );
  // A second rewrite is stable (the signature is not added twice).
  assert.equal(rewriteContent(c, out), out);
  // Clearing the password removes its line.
  c.setMany([["requirepass", ""]]);
  assert.ok(!rewriteContent(c, out).includes("requirepass"));
  assert.equal(formatMemory(1024), "1kb");
  assert.equal(formatMemory(1000), "1000");
  assert.equal(formatMemory(3 * 1024 * 1024 * 1024), "3gb");
  assert.equal(repr("a\tb\x01"), '"a\\tb\\x01"');
});

Deno.test("command line: file first, --name values, boolean shorthand, later overrides", async () => {
  assert.deepEqual(
    groupDirectives(["a.conf", "--port", "7000", "--save", "900", "1", "--cluster-enabled"]),
    {
      file: "a.conf",
      directives: [["port", "7000"], ["save", "900", "1"], ["cluster-enabled"]],
    },
  );
  const r = await parseCommandLine([
    "--port",
    "7000",
    "--port",
    "7001",
    "--cluster-enabled",
    "--save",
    "",
  ]);
  assert.equal(r.kind, "run");
  if (r.kind !== "run") return;
  assert.equal(r.config.int("port"), 7001);
  assert.equal(r.config.bool("cluster-enabled"), true);
  assert.deepEqual(r.config.get("save"), []);
  assert.equal((await parseCommandLine(["--version"])).kind, "version");
  assert.equal((await parseCommandLine(["-h"])).kind, "help");
  await assert.rejects(() => parseCommandLine(["--nosuch", "1"]), /Bad directive/);
});
