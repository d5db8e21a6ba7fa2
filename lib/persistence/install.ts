// Attaches persistence to a starting server: loads the dump, then hooks the cron (save
// points), shutdown (final save) and INFO persistence.
import { rank, register } from "../server/subsystems.ts";
import { diskErrorDenial, persistenceOf } from "./service.ts";
import { serializedLength } from "./rdb_writer.ts";
import { debugHooks } from "../commands/debug.ts";

register((server) => {
  const p = persistenceOf(server);
  p.loadAtStartup();
  server.cronHooks.push(() => p.cron());
  server.shutdownHooks.push((save) => p.onShutdown(save));
  server.infoSections.set("persistence", () => p.info());
  debugHooks.serializedLength = (v) => serializedLength(v, p.encodeOptions());
  server.writeDenied = () => diskErrorDenial(server);
}, rank("persistence"));
