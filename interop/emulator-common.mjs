// Shared helpers of the emulator interop scripts: they drive the official
// @microsoft/signalr client against sigr's emulator and print one JSON
// object per line on stdout for the Go test to assert on.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const signalR = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

// emit prints one JSON line.
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// guard ends the script with an error line after ms, so no script can hang.
export function guard(ms) {
  const t = setTimeout(() => {
    emit({ event: "error", error: `script timed out after ${ms} ms` });
    process.exit(2);
  }, ms);
  return () => clearTimeout(t);
}

export function transportOf(name) {
  switch (name) {
    case "WebSockets": return signalR.HttpTransportType.WebSockets;
    case "ServerSentEvents": return signalR.HttpTransportType.ServerSentEvents;
    case "LongPolling": return signalR.HttpTransportType.LongPolling;
    default: throw new Error(`unknown transport ${name}`);
  }
}

// connect builds and starts a connection to the function app as user, and
// records every newMessage/notify invocation into received. opts.messagePack
// speaks the MessagePack hub protocol; opts.label names the client in what
// it records (default: the user).
export async function connect(base, user, transport, received, opts = {}) {
  let b = new signalR.HubConnectionBuilder()
    .withUrl(base, {
      transport: transportOf(transport),
      headers: user ? { "x-ms-client-principal-id": user } : {},
    })
    .configureLogging(signalR.LogLevel.None);
  if (opts.reconnectDelays) b = b.withAutomaticReconnect(opts.reconnectDelays);
  if (opts.messagePack) b = b.withHubProtocol(new MessagePackHubProtocol());
  const conn = b.build();
  for (const target of ["newMessage", "notify"]) {
    conn.on(target, (...args) => {
      const who = opts.label || user;
      received.push({ user: who, target, args });
      emit({ event: "message", user: who, target, args });
    });
  }
  await conn.start();
  return conn;
}

// post sends a JSON body to a function of the app and returns the status.
export async function post(base, fn, body) {
  const res = await fetch(`${base}/${fn}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${fn} answered ${res.status}: ${text}`);
  return res.status;
}

// waitUntil polls cond every 10 ms until it holds or ms pass.
export async function waitUntil(cond, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
