// Usage: node stateful-resume.mjs <function app base URL> <count>
// Connects alice over WebSockets with withStatefulReconnect() and no
// automatic reconnect, prints "connected" and collects the numbers that
// arrive as invocations of "n" until <count> of them came. Meanwhile the Go
// test breaks the TCP connection under the client: the client must resume
// the same connection (same id, no onreconnecting, no onclose) and receive
// every number exactly once, in order. It then sends a message of its own
// after the resume, to check the service still reads it, and stops.
import { emit, guard, signalR, waitUntil } from "./emulator-common.mjs";

const [base, countArg] = process.argv.slice(2);
const count = Number(countArg);
const done = guard(25000);
const received = [];
let reconnecting = false;
let closed = null;
let conn;
try {
  conn = new signalR.HubConnectionBuilder()
    .withUrl(base, {
      transport: signalR.HttpTransportType.WebSockets,
      headers: { "x-ms-client-principal-id": "alice" },
    })
    .withStatefulReconnect()
    .configureLogging(signalR.LogLevel.None)
    .build();
  conn.on("n", (i) => {
    received.push(i);
    if (received.length === 1) emit({ event: "first" }); // the Go test cuts the network after this
  });
  conn.onreconnecting(() => { reconnecting = true; });
  conn.onclose((err) => { closed = err ? String(err.message || err) : ""; });
  await conn.start();
  const first = conn.connectionId;
  emit({ event: "connected", user: "alice", connectionId: first, transport: "WebSockets" });
  if (!(await waitUntil(() => received.length >= count || closed !== null, 20000))) {
    throw new Error(`only ${received.length} of ${count} numbers within 20 s`);
  }
  if (closed !== null) throw new Error(`the connection closed instead of resuming: ${closed}`);
  // A hub invocation after the resume: the serverless service drops it,
  // but it must be accepted (numbered, acknowledged) without an error.
  await conn.send("afterResume", 1);
  emit({ event: "step", step: "received", ok: !reconnecting, args: received });
  await conn.stop();
  emit({ event: "done", first, second: conn.connectionId ?? first });
} catch (e) {
  emit({ event: "error", error: String(e && e.message || e) });
  if (conn) await conn.stop().catch(() => {});
  done();
  process.exit(1);
}
done();
