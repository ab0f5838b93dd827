// Usage: node emulator-routing.mjs <function app base URL> <transport>
// Connects alice and bob through the function app's negotiate with the
// given transport, then sends through the function app: a broadcast, a
// chat message to bob, a message to group g1 after adding alice to it,
// and a message to bob's connection. Prints every message received.
import { connect, emit, guard, post, waitUntil, sleep } from "./emulator-common.mjs";

const [base, transport] = process.argv.slice(2);
const done = guard(20000);
const received = [];
const conns = [];
try {
  const alice = await connect(base, "alice", transport, received);
  conns.push(alice);
  const bob = await connect(base, "bob", transport, received);
  conns.push(bob);
  emit({ event: "connected", user: "alice", connectionId: alice.connectionId, transport });
  emit({ event: "connected", user: "bob", connectionId: bob.connectionId, transport });

  // Each step waits for the messages it should cause, then a little more
  // so that a message delivered to the wrong client would show up.
  const step = async (name, fn, body, want) => {
    const before = received.length;
    await post(base, fn, body);
    const ok = await waitUntil(() => received.length >= before + want, 5000);
    await sleep(100);
    emit({ event: "step", step: name, ok });
  };
  await step("broadcast", "messages", { target: "notify", arguments: ["to everyone"] }, 2);
  await step("user", "messages", { sender: "alice", text: "hi bob", recipient: "bob" }, 1);
  await post(base, "groups", { action: "add", groupName: "g1", userId: "alice" });
  await step("group", "messages", { target: "notify", arguments: ["to g1"], groupName: "g1" }, 1);
  await step("connection", "messages", { target: "notify", arguments: ["to bob's connection"], connectionId: bob.connectionId }, 1);
  for (const c of conns) await c.stop();
  emit({ event: "done" });
} catch (e) {
  emit({ event: "error", error: String(e && e.message || e) });
  for (const c of conns) await c.stop().catch(() => {});
  done();
  process.exit(1);
}
done();
