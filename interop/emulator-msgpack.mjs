// Usage: node emulator-msgpack.mjs <function app base URL> <transport>
// Connects three official clients to one hub through the function app's
// negotiate: alice over JSON, alice again and bob over MessagePack
// (@microsoft/signalr-protocol-msgpack). Sends a broadcast, a chat message
// to alice and a message to group g1 (bob) through the function app; then
// calls the built-in hub over the MessagePack connections (serverless
// upstream): echo, and a broadcast by invocation. Prints every message
// received, labelled with the client, and each step's outcome.
import { connect, emit, guard, post, waitUntil, sleep } from "./emulator-common.mjs";

const [base, transport] = process.argv.slice(2);
const done = guard(25000);
const received = [];
const conns = [];
const errorOf = (e) => String((e && e.message) || e);
try {
  const aliceJSON = await connect(base, "alice", transport, received, { label: "alice-json" });
  conns.push(aliceJSON);
  const aliceMP = await connect(base, "alice", transport, received, { label: "alice-msgpack", messagePack: true });
  conns.push(aliceMP);
  const bobMP = await connect(base, "bob", transport, received, { label: "bob-msgpack", messagePack: true });
  conns.push(bobMP);
  emit({ event: "connected", user: "bob-msgpack", connectionId: bobMP.connectionId, transport });

  const step = async (name, send, want) => {
    const before = received.length;
    await send();
    const ok = await waitUntil(() => received.length >= before + want, 5000);
    await sleep(100); // a message to the wrong client would show up
    emit({ event: "step", step: name, ok: ok && received.length === before + want });
  };
  const value = { text: "naïve ☕", list: [1, "two", null, true], n: 4.5, big: 1732800000000 };
  await step("broadcast", () => post(base, "messages", { target: "notify", arguments: ["to everyone", value] }), 3);
  await step("user", () => post(base, "messages", { sender: "bob", text: "hi alice", recipient: "alice" }), 2);
  await post(base, "groups", { action: "add", groupName: "g1", userId: "bob" });
  await step("group", () => post(base, "messages", { target: "notify", arguments: ["to g1"], groupName: "g1" }), 1);

  const echoed = await aliceMP.invoke("echo", value);
  emit({ event: "step", step: "echo", ok: JSON.stringify(echoed) === JSON.stringify(value) });
  try {
    await bobMP.invoke("nosuch", 1);
    emit({ event: "step", step: "nosuch", ok: false });
  } catch (e) {
    emit({ event: "step", step: "nosuch", ok: true, error: errorOf(e) });
  }
  await step("invoked broadcast", () => bobMP.invoke("broadcast", "hello from bob"), 3);

  for (const c of conns) await c.stop();
  emit({ event: "done" });
} catch (e) {
  emit({ event: "error", error: errorOf(e) });
  for (const c of conns) await c.stop().catch(() => {});
  done();
  process.exit(1);
}
done();
