// watch-bench.mjs is the official-client side of watch-bench.sh: it
// connects to URL with @microsoft/signalr 10.0.11 over WebSockets, counts
// newMessage invocations, and exits once COUNT have arrived. The handler
// does nothing but count, the most favourable case for the official client.
//
//   node interop/watch-bench.mjs URL COUNT [messagepack]
//
// With messagepack it speaks the MessagePack hub protocol
// (@microsoft/signalr-protocol-msgpack 10.0.11).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const signalR = require("@microsoft/signalr");

const [url, countArg, protocolArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !(count > 0)) {
  console.error("usage: node watch-bench.mjs URL COUNT");
  process.exit(2);
}

const guard = setTimeout(() => {
  console.error(`watch-bench.mjs: timed out with ${got} of ${count} messages`);
  process.exit(1);
}, 300_000);

let got = 0;
let builder = new signalR.HubConnectionBuilder()
  .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
  .configureLogging(signalR.LogLevel.Error);
if (protocolArg === "messagepack") {
  const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");
  builder = builder.withHubProtocol(new MessagePackHubProtocol());
}
const connection = builder.build();
connection.on("newMessage", () => {
  got++;
  if (got === count) {
    clearTimeout(guard);
    connection.stop().then(() => process.exit(0));
  }
});
connection.start().catch((err) => {
  console.error(`watch-bench.mjs: ${err}`);
  process.exit(1);
});
