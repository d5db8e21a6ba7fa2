// `deno task compile` builds one executable that takes the launcher's arguments. deno compile
// downloads the Deno runtime base unless DENORT_BIN points to one; where neither works the test
// is skipped with the reason.
import assert from "node:assert/strict";
import { freePort, waitForPing } from "../helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const out = Deno.makeTempDirSync({ prefix: "tsredis-compile-" }) + "/tsredis-bin";

async function tryCompile(): Promise<string | null> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["compile", "--allow-all", "--no-check", "--output", out, `${ROOT}main.ts`],
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
  }).spawn();
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  const r = await p.output();
  clearTimeout(timer);
  if (r.success) return null;
  const err = new TextDecoder().decode(r.stderr).split("\n").filter((l) => l.trim()).slice(0, 3)
    .join(" | ");
  return err || `exit code ${r.code}`;
}

const failure = await tryCompile();
if (failure) {
  console.log(
    `compile_test skipped: deno compile could not build the executable here (${failure}). ` +
      "It needs to download the Deno runtime base, or DENORT_BIN pointing to one.",
  );
}

Deno.test({
  name: "compiled binary starts like ./tsredis and answers PING",
  ignore: failure !== null,
  fn: async () => {
    const port = freePort();
    const dir = Deno.makeTempDirSync();
    const p = new Deno.Command(out, {
      args: ["--port", String(port), "--save", "", "--dir", dir],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      await waitForPing(port);
      const v = await new Deno.Command(out, { args: ["--version"], stdout: "piped" }).output();
      assert.match(new TextDecoder().decode(v.stdout), /tsredis server v=/);
    } finally {
      p.kill("SIGTERM");
      await p.output();
    }
  },
});
