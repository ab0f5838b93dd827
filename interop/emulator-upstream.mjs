// Usage: node emulator-upstream.mjs <function app base URL> <transport>
// Connects alice and bob through the function app's negotiate and calls
// the built-in hub over the connection (serverless upstream): invoke echo,
// invoke broadcast, invoke an unknown method, stream (unsupported), and
// send broadcast. Prints each outcome and every message received.
import { connect, emit, guard, waitUntil } from "./emulator-common.mjs";

const [base, transport] = process.argv.slice(2);
const done = guard(20000);
const received = [];
const conns = [];
const errorOf = (e) => String((e && e.message) || e);
try {
  const alice = await connect(base, "alice", transport, received);
  conns.push(alice);
  const bob = await connect(base, "bob", transport, received);
  conns.push(bob);
  emit({ event: "connected", user: "alice", connectionId: alice.connectionId, transport });
  emit({ event: "connected", user: "bob", connectionId: bob.connectionId, transport });

  const value = { text: "naïve ☕", list: [1, "two", null, true], n: 4.5 };
  const echoed = await alice.invoke("echo", value);
  emit({ event: "result", step: "echo", ok: JSON.stringify(echoed) === JSON.stringify(value), args: [echoed] });

  let before = received.length;
  const res = await alice.invoke("broadcast", "hello from alice");
  const all = await waitUntil(() => received.length >= before + 2, 5000);
  emit({ event: "result", step: "broadcast", ok: all && res === null, args: [res] });

  try {
    await alice.invoke("nosuch", 1);
    emit({ event: "result", step: "nosuch", ok: false });
  } catch (e) {
    emit({ event: "rejected", step: "nosuch", error: errorOf(e) });
  }

  const streamErr = await new Promise((resolve) => {
    alice.stream("counter", 3).subscribe({
      next: () => resolve("an item arrived"),
      complete: () => resolve("completed without error"),
      error: (e) => resolve(errorOf(e)),
    });
  });
  emit({ event: "rejected", step: "stream", error: streamErr });

  before = received.length;
  await bob.send("broadcast", "sent by bob");
  const sent = await waitUntil(() => received.length >= before + 2, 5000);
  emit({ event: "result", step: "send", ok: sent });

  // The connection still works after the failures.
  const again = await bob.invoke("echo", "still here");
  emit({ event: "result", step: "after", ok: again === "still here", args: [again] });

  for (const c of conns) await c.stop();
  emit({ event: "done" });
} catch (e) {
  emit({ event: "error", error: errorOf(e) });
  for (const c of conns) await c.stop().catch(() => {});
  done();
  process.exit(1);
}
done();
