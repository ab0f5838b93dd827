// Usage: node emulator-reconnect.mjs <function app base URL> <transport>
// Connects alice with automatic reconnect, adds her (the user) to group
// "team", prints "connected" and waits: the Go test then closes the
// connection through the REST API (a Close with allowReconnect:true). The
// client must reconnect with a new connection id, and a message to "team"
// must still reach it (user-group membership survives the reconnect).
import { connect, emit, guard, post, waitUntil } from "./emulator-common.mjs";

const [base, transport] = process.argv.slice(2);
const done = guard(20000);
const received = [];
let conn;
try {
  conn = await connect(base, "alice", transport, received, { reconnectDelays: [0, 200, 500, 1000] });
  const first = conn.connectionId;
  await post(base, "groups", { action: "add", groupName: "team", userId: "alice" });
  let reconnectingError = null;
  let reconnected = null;
  conn.onreconnecting((err) => {
    reconnectingError = err ? String(err.message || err) : "";
    emit({ event: "reconnecting", error: reconnectingError });
  });
  conn.onreconnected((id) => {
    reconnected = id;
    emit({ event: "reconnected", connectionId: id });
  });
  conn.onclose((err) => emit({ event: "closed", error: err ? String(err.message || err) : "" }));
  emit({ event: "connected", user: "alice", connectionId: first, transport });
  if (!(await waitUntil(() => reconnected !== null, 15000))) throw new Error("no reconnect within 15 s");
  await post(base, "messages", { target: "notify", arguments: ["team after reconnect"], groupName: "team" });
  if (!(await waitUntil(() => received.length >= 1, 5000))) throw new Error("the group message did not arrive after the reconnect");
  await conn.stop();
  emit({ event: "done", first, second: reconnected });
} catch (e) {
  emit({ event: "error", error: String(e && e.message || e) });
  if (conn) await conn.stop().catch(() => {});
  done();
  process.exit(1);
}
done();
