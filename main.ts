// tsredis entry point: command line + config file -> Config -> startServer().
import { parseCommandLine, USAGE } from "./lib/config/cli.ts";
import { ConfigFileError } from "./lib/config/config.ts";
import { TSREDIS_VERSION, VERSION } from "./lib/server/server.ts";
import { startServer } from "./lib/server/start.ts";
import "./lib/server/subsystems.ts";

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = await parseCommandLine(Deno.args);
  } catch (e) {
    if (e instanceof ConfigFileError) console.error(e.report(TSREDIS_VERSION));
    else {console.error(
        `\n*** FATAL CONFIG FILE ERROR (tsredis ${TSREDIS_VERSION}) ***\n${(e as Error).message}\n`,
      );}
    Deno.exit(1);
  }
  if (parsed.kind === "help") {
    console.error(USAGE);
    Deno.exit(0);
  }
  if (parsed.kind === "version") {
    console.log(`tsredis server v=${TSREDIS_VERSION} redis_version=${VERSION} bits=64`);
    Deno.exit(0);
  }
  await startServer(parsed.config);
}

if (import.meta.main) main();
