// The bus entry points the cluster runtime uses: encode/decode between the state machine's
// flat messages and wire bytes, and the TCP stream framer.
export { decodeBus, encodeBus, PacketFramer } from "./state_bridge.ts";
